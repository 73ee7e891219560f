"""Several instances of a service share one HTTP port (issue 14 item 1): `http_reuse_port` binds with SO_REUSEPORT."""

from __future__ import annotations

import socket

from devstack.procs import free_port
from vipcore.runtime import reuse_port_socket


def test_two_instances_bind_and_serve_one_port() -> None:
    port = free_port()
    a, b = reuse_port_socket("127.0.0.1", port), reuse_port_socket("127.0.0.1", port)
    try:
        for s in (a, b):
            s.listen()
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
        a.close()  # one instance dies: the port still answers through the other
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
    finally:
        a.close()
        b.close()
