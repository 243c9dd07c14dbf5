"""A WebSocket client forecastd did not write: Python's `websockets` library.

Usage: ws_client.py WS_BASE READINGS_JSON SPIKE_JSON

Opens GET /v1/alerts/ws, then GET /v1/ingest/ws; sends the readings of
READINGS_JSON one message each, then one message that is not JSON, then the
readings of SPIKE_JSON one message each; prints one JSON line per reply of
the ingest socket ({"reply": ...}) and, once the replies are in, the alerts
that arrived on the alert socket within 20 seconds ({"alert": ...}), until an
"opened" alert.
"""
import asyncio
import json
import sys

import websockets


async def main(base: str, readings: list, spike: list) -> None:
    async with websockets.connect(f"{base}/v1/alerts/ws") as alerts:
        async with websockets.connect(f"{base}/v1/ingest/ws") as ingest:
            for message in [*map(json.dumps, readings), "{not json", *map(json.dumps, spike)]:
                await ingest.send(message)
                print(json.dumps({"reply": json.loads(await ingest.recv())}), flush=True)
        try:
            async with asyncio.timeout(20) if hasattr(asyncio, "timeout") else _timeout(20):
                while True:
                    alert = json.loads(await alerts.recv())
                    print(json.dumps({"alert": alert}), flush=True)
                    if alert.get("type") == "opened":
                        return
        except (asyncio.TimeoutError, TimeoutError):
            print(json.dumps({"timeout": True}), flush=True)


class _timeout:
    """asyncio.timeout for Python before 3.11."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def __aenter__(self):
        self.task = asyncio.current_task()
        self.handle = asyncio.get_running_loop().call_later(self.seconds, self.task.cancel)

    async def __aexit__(self, kind, error, trace):
        self.handle.cancel()
        if kind is asyncio.CancelledError:
            raise asyncio.TimeoutError()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])))
