"""What booking chains, daily agendas and the maintenance jobs add to a worker."""

from collections.abc import Callable

from sqlalchemy.ext.asyncio import async_sessionmaker

from activities.agenda import AgendaActivities
from activities.booking import BookingActivities
from activities.maintenance import MaintenanceActivities
from activities.notices import NoticeActivities
from herald.settings import Settings
from workflows.agenda import DailyAgendaWorkflow
from workflows.booking import BookingWorkflow
from workflows.maintenance import (
    FailureRateMonitorWorkflow,
    PurgeLogsWorkflow,
    RetryFailedDeliveriesWorkflow,
)

SCHEDULING_WORKFLOWS = [
    BookingWorkflow,
    DailyAgendaWorkflow,
    PurgeLogsWorkflow,
    RetryFailedDeliveriesWorkflow,
    FailureRateMonitorWorkflow,
]


def scheduling_activities(sessions: async_sessionmaker, settings: Settings) -> list[Callable]:
    notices = NoticeActivities(sessions, settings)
    booking = BookingActivities(sessions)
    agenda = AgendaActivities(sessions)
    maintenance = MaintenanceActivities(sessions, settings)
    return [
        notices.create_notice,
        booking.load_booking_config,
        booking.record_booking,
        agenda.load_agenda,
        maintenance.purge_logs,
        maintenance.retry_failed_deliveries,
        maintenance.check_failure_rates,
    ]
