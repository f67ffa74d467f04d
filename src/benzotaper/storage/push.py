"""Tables for Web Push reminders: the server's VAPID key, browsers' subscriptions, sent reminders.

- ``push_keys``: the server's VAPID key pair (one row, ``id = 1``), made on first use unless the
  settings give one, so every worker process signs with the same key.
- ``push_subscriptions``: a browser's push endpoint and its encryption keys (``p256dh``,
  ``auth``), per person; removed when the person unsubscribes or the push service says it is gone.
- ``push_reminders``: one row per dose reminder sent (person, their local day, dose time), unique,
  so several workers or a restarted scheduler never send the same reminder twice.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from benzotaper.storage.base import Base, utcnow


class PushKey(Base):
    __tablename__ = "push_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PushSubscription(Base):
    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PushReminder(Base):
    __tablename__ = "push_reminders"
    __table_args__ = (
        UniqueConstraint("user_id", "local_day", "dose_time", name="uq_push_reminders_dose"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    local_day: Mapped[dt.date] = mapped_column(Date)
    dose_time: Mapped[str] = mapped_column(String(5))
    sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
