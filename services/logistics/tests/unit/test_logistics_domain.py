"""Logistics domain rules without I/O: quantities, transitions, dates, the originals calendar."""

from __future__ import annotations

from datetime import date

import pytest

from clientops_shared.errors import Conflict, InvalidInput
from logistics.domain.model import (
    DeliveryStatus,
    OriginalsControl,
    ShipmentStatus,
    Tracking,
    check_agreed_dates,
    check_delivery_dates,
    delivery_move,
    journal_number,
    needs_large_vehicle,
    next_working_day,
    quantity_of,
    shipment_move,
)

pytestmark = pytest.mark.unit


def test_quantity_follows_how_the_item_is_tracked() -> None:
    assert quantity_of(Tracking.COUNT, 3, None).count == 3
    q = quantity_of(Tracking.SERIAL, None, [" A-1", "A-2"])
    assert (q.count, q.serials) == (2, ("A-1", "A-2"))
    for args, field in [((Tracking.COUNT, 0, None), "quantity"),
                        ((Tracking.COUNT, -1, None), "quantity"),
                        ((Tracking.COUNT, None, None), "quantity"),
                        ((Tracking.COUNT, 1, ["A-1"]), "serials"),
                        ((Tracking.SERIAL, 2, None), "serials"),
                        ((Tracking.SERIAL, None, ["A-1", "A-1"]), "serials"),
                        ((Tracking.SERIAL, 3, ["A-1", "A-2"]), "quantity")]:
        with pytest.raises(InvalidInput) as caught:
            quantity_of(*args)  # type: ignore[arg-type]
        assert caught.value.field == field, args
    with pytest.raises(InvalidInput) as caught:
        quantity_of(Tracking.COUNT, 0, None, field_prefix="lines.2.")
    assert caught.value.field == "lines.2.quantity"


def test_shipments_and_deliveries_move_only_forward() -> None:
    assert shipment_move(ShipmentStatus.PLANNED, ShipmentStatus.IN_TRANSIT)
    assert shipment_move(ShipmentStatus.IN_TRANSIT, ShipmentStatus.DELIVERED)
    with pytest.raises(Conflict, match="Доставлена"):
        shipment_move(ShipmentStatus.DELIVERED, ShipmentStatus.CANCELLED)
    with pytest.raises(Conflict):
        shipment_move(ShipmentStatus.IN_TRANSIT, ShipmentStatus.CANCELLED)
    assert delivery_move(DeliveryStatus.RETURNED, DeliveryStatus.ARCHIVED)
    with pytest.raises(Conflict):
        delivery_move(DeliveryStatus.REGISTERED, DeliveryStatus.DELIVERED)


def test_dates_in_the_right_order() -> None:
    check_delivery_dates(date(2026, 12, 3), date(2026, 12, 3))
    with pytest.raises(InvalidInput) as caught:
        check_delivery_dates(date(2026, 12, 3), date(2026, 12, 2))
    assert caught.value.field == "delivered_on"
    with pytest.raises(InvalidInput) as caught:
        check_agreed_dates(date(2026, 12, 3), date(2026, 12, 1))
    assert caught.value.field == "ships_on"


def test_originals_calendar_skips_weekends_and_the_new_year_holidays() -> None:
    control = OriginalsControl(escalate_after_working_days=3)
    # due Friday 11.12.2026: reminder Monday 14.12, the head on Thursday 17.12
    assert control.reminder_on(date(2026, 12, 11)) == date(2026, 12, 14)
    assert control.escalation_on(date(2026, 12, 11)) == date(2026, 12, 17)
    # due 30.12.2026: Russia is off until 08.01.2027 (inclusive), so Monday 11.01.2027
    assert next_working_day(date(2026, 12, 30)) == date(2027, 1, 11)
    assert control.actions(date(2026, 12, 11), date(2026, 12, 14), reminded=False,
                           escalated=False) == (True, False)
    assert control.actions(date(2026, 12, 11), date(2026, 12, 20), reminded=True,
                           escalated=False) == (False, True)
    assert control.actions(date(2026, 12, 11), date(2026, 12, 20), reminded=True,
                           escalated=True) == (False, False)


def test_journal_numbers_and_large_goods() -> None:
    assert journal_number(2026, 7) == "ДД-2026/0007"
    assert needs_large_vehicle(["terminal", "boom"]) and not needs_large_vehicle(["terminal"])
