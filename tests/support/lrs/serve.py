"""Serve Ralph's LRS on its file backend (run with the LRS's own Python, not the project's).

Ralph's file backend writes with `create` by default, which refuses a file that exists: only the
first batch of statements could ever be stored. Appending is what an LRS on a file needs, so this
launcher makes it the backend's default before serving: `python serve.py <host> <port>`; the rest
is configured by Ralph's `RALPH_*` variables.
"""

import sys

import uvicorn
from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend

FSLRSBackend.default_operation_type = BaseOperationType.APPEND

if __name__ == "__main__":
    uvicorn.run("ralph.api:app", host=sys.argv[1], port=int(sys.argv[2]), log_level="warning")
