"""A log server out of the database owner's reach, for the ledger tests: a UDP syslog listener on localhost."""

from __future__ import annotations

import socket


class SyslogListener:
    """Receives what ``SysLogHandler`` sends; ``text()`` is the log file the server would keep."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"syslog://127.0.0.1:{self._socket.getsockname()[1]}"
        self.lines: list[str] = []

    def text(self) -> str:
        self._socket.settimeout(0.2)
        while True:
            try:
                self.lines.append(self._socket.recv(65535).decode())
            except TimeoutError:
                break
        return "\n".join(self.lines) + "\n"

    def close(self) -> None:
        self._socket.close()
