"""Provider failure-rate alerts of the last hour, as GET /v1/health shows them."""

from datetime import datetime, timedelta, timezone

from sqlalchemy.ext.asyncio import async_sessionmaker

from db.maintenance import recent_alerts


async def provider_alerts(sessions: async_sessionmaker) -> list[dict]:
    """No tenant data: health needs no key. A tenant sees its own alerts at GET /v1/alerts."""
    since = datetime.now(timezone.utc) - timedelta(hours=1)
    try:
        async with sessions() as session:
            found = await recent_alerts(session, since, scope="provider")
    except Exception:  # health reports the database's own state; alerts must not break it
        return []
    return [
        {
            "provider": a.subject,
            "rate": round(a.rate, 3),
            "failed": a.failed,
            "total": a.total,
            "since": a.window_start.isoformat(),
        }
        for a in found
    ]
