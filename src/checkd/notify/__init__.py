"""Notification targets (webhook, Alertmanager, Apprise, command) and the outbox delivery thread."""

from checkd.notify.delivery import Delivery, TestResult
from checkd.notify.targets import DeliveryError, Target, build_targets

__all__ = ["Delivery", "DeliveryError", "Target", "TestResult", "build_targets"]
