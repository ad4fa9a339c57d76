"""A trivial FastAPI app, served the way `reeldocs serve` serves Reeldocs, for comparison.

`python -m bench.trivial_app --port P`: as many uvicorn processes as `reeldocs serve`
starts by default, sharing one socket bound by a supervisor (uvicorn's own), with the
same event loop, HTTP parser, proxy-header handling and logging.
"""

from __future__ import annotations

import argparse

import uvicorn
from fastapi import FastAPI

from reeldocs.serving import default_web_processes

app = FastAPI()


@app.get("/ping")
async def ping() -> dict[str, str]:
    return {"status": "ok"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    arguments = parser.parse_args()
    uvicorn.run(
        "bench.trivial_app:app",
        host="127.0.0.1",
        port=arguments.port,
        workers=default_web_processes(),
        proxy_headers=True,
        log_level="info",
        access_log=False,
    )


if __name__ == "__main__":
    main()
