"""The routes of booking chains, agendas and scheduled notifications, as one router for the app."""

from fastapi import APIRouter

from api.routes import agenda, booking_settings, bookings, events, scheduled

router = APIRouter()
for module in (events, bookings, agenda, scheduled, booking_settings):
    router.include_router(module.router)
