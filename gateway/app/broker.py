"""Which dramatiq broker a process talks to, chosen by `[queue] broker`.

`embedded` is a StubBroker whose queue lives in the memory of `relaydesk
serve` and is consumed by a worker inside that same process: one command, no
other service.  Its queue dies with the process, which is acceptable only
because the database is the record of work to do (see `gateway.app.tasks`
sweeper).  `redis://…` and `amqp://…` are shared brokers, so any number of
ingress processes and `relaydesk worker` processes can cooperate.
"""

from __future__ import annotations

import dramatiq
import pika.exceptions
import redis.exceptions
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.errors import BrokerConnectionError

from gateway.core.config import QueueConfig

EMBEDDED = "embedded"
# What enqueueing raises when the broker cannot be reached: dramatiq wraps RabbitMQ's errors, not Redis's.
_BROKER_DOWN = (BrokerConnectionError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
                pika.exceptions.AMQPConnectionError, OSError)


def is_embedded(config: QueueConfig) -> bool:
    """True when the queue lives inside the `serve` process."""
    return config.broker == EMBEDDED


def make_broker(config: QueueConfig) -> dramatiq.Broker:
    """A fresh broker for this process; actors are declared on it by `gateway.app.tasks`."""
    url = config.broker
    if is_embedded(config):
        return StubBroker()
    if url.startswith(("redis://", "rediss://")):
        return RedisBroker(url=url, namespace=config.namespace)
    if url.startswith(("amqp://", "amqps://")):
        # Publisher confirms: an enqueue returns only once RabbitMQ holds the message.
        return RabbitmqBroker(url=url, confirm_delivery=True)
    raise ValueError(f"queue.broker: unsupported broker {url!r}")


def make_worker(broker: dramatiq.Broker, threads: int) -> dramatiq.Worker:
    """A worker consuming every queue declared on `broker`.

    A short consumer timeout keeps shutdown quick; it only bounds how long an
    idle consumer waits before checking whether it should stop.
    """
    return dramatiq.Worker(broker, worker_threads=threads, worker_timeout=200)


def is_broker_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the broker cannot be reached (a restart, the network), not that the work is wrong."""
    return isinstance(exc, _BROKER_DOWN)
