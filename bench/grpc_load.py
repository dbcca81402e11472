"""gRPC load for bench/run.py: TrackEvent calls or TrackEvents streams from asyncio tasks for a fixed time.

    .venv/bin/python bench/grpc_load.py --address HOST:PORT --token JWT --mode unary|stream [--seconds 10]

Prints one JSON line: events acknowledged, seconds, p50/p99 latency of a call (ms), errors, concurrency.
One process with grpc.aio (the C core does the I/O) keeps the generator's own CPU low; run.py reports it.
"""

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

import grpc
from google.protobuf import json_format

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.run import sample_event  # noqa: E402
from grpc_api.generated import (  # noqa: E402
    user_behavior_insights_pb2 as messages,
    user_behavior_insights_service_pb2 as service,
    user_behavior_insights_service_pb2_grpc as stubs,
)

STREAM_MESSAGES = 10  # each stream sends 10 messages of 100 events: 1000 events a call, like a REST batch
STREAM_BATCH = 100


def event_message(index: int) -> messages.Event:
    return json_format.ParseDict(sample_event(index), messages.Event())


async def unary_worker(stub, metadata, deadline, latencies, counts):
    request = service.TrackEventRequest(event=event_message(0))
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            await stub.TrackEvent(request, metadata=metadata, timeout=10)
        except grpc.aio.AioRpcError:
            counts["errors"] += 1
            continue
        latencies.append(time.perf_counter() - started)
        counts["events"] += 1


async def stream_worker(stub, metadata, deadline, latencies, counts):
    batch = service.TrackEventsRequest(events=[event_message(i) for i in range(STREAM_BATCH)])

    def requests():
        for _ in range(STREAM_MESSAGES):
            yield batch

    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            response = await stub.TrackEvents(requests(), metadata=metadata, timeout=30)
        except grpc.aio.AioRpcError:
            counts["errors"] += 1
            continue
        latencies.append(time.perf_counter() - started)
        counts["events"] += len(response.event_ids)


async def main(args) -> dict:
    metadata = (("authorization", f"Bearer {args.token}"),)
    worker = unary_worker if args.mode == "unary" else stream_worker
    latencies: list[float] = []
    counts = {"events": 0, "errors": 0}
    # Traffic comes from many clients, so from many connections: with one, every call would go to the one server
    # process that accepted it (grpcserver's processes share the port, each taking whole connections, which the
    # kernel spreads at random). A channel per task, each its own connection (channels to one address otherwise
    # share one).
    channels = [
        grpc.aio.insecure_channel(args.address, options=[("grpc.use_local_subchannel_pool", 1)])
        for _ in range(args.concurrency)
    ]
    started = time.monotonic()
    deadline = started + args.seconds
    await asyncio.gather(*(
        worker(stubs.UserBehaviorInsightsServiceStub(channels[i % len(channels)]), metadata, deadline, latencies,
               counts)
        for i in range(args.concurrency)
    ))
    elapsed = time.monotonic() - started
    for channel in channels:
        await channel.close()
    latencies.sort()

    def percentile(p):
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000, 2) if latencies else None

    return {"events": counts["events"], "errors": counts["errors"], "seconds": elapsed,
            "p50_ms": percentile(0.50), "p99_ms": percentile(0.99), "concurrency": args.concurrency}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--address", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--mode", choices=("unary", "stream"), required=True)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=None, help="16 for unary, 8 for stream by default")
    arguments = parser.parse_args()
    # Enough streams that the kernel's random spread of their connections keeps every server process busy.
    arguments.concurrency = arguments.concurrency or (16 if arguments.mode == "unary" else 8)
    print(json.dumps(asyncio.run(main(arguments))))
