"""``notify:`` of the run config: where a paper session sends its webhook notifications, and which.

The schema only (pydantic); ``runner.paper.notify`` sends them.
"""
from __future__ import annotations

from typing import Literal, get_args

from pydantic import ConfigDict, Field, HttpUrl, model_validator

from strategies.params import PlainInputModel

Event = Literal["fill", "reject", "disconnect", "reconnect", "risk_stop", "stale_exit", "feed_stalled", "feed_flowing",
                "stop"]
EVENTS: tuple[str, ...] = get_args(Event)


class NotifyConfig(PlainInputModel):
    """Where the paper session sends notifications; no webhook = none are sent."""

    model_config = ConfigDict(extra="forbid")

    webhook: HttpUrl | None = Field(None, description="URL that receives a JSON POST per event (http or https).")
    format: Literal["generic", "discord", "telegram"] = Field(
        "generic", description="JSON body: generic ({event, text, content, run, time}), discord ({content}), "
                               "telegram ({chat_id, text}).")
    chat_id: str | None = Field(None, description="Telegram chat id (format: telegram only).")
    events: list[Event] = Field(
        default_factory=lambda: list(EVENTS),
        description="Which events to send.")
    timeout: float = Field(5.0, gt=0, le=60, description="Seconds to wait for the webhook per message.")
    queue_size: int = Field(100, ge=1, le=10_000, description="Messages waiting to be sent at most; more are dropped.")

    @model_validator(mode="after")
    def _telegram_needs_chat(self) -> "NotifyConfig":
        if self.format == "telegram" and not self.chat_id:
            raise ValueError("format telegram needs chat_id (the chat the bot writes to)")
        return self
