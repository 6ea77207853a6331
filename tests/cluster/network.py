"""Two app hosts in network namespaces of their own, on a bridge of this machine.

    root namespace: bridge authc0 10.77.0.1/24 (nginx's upstream side, Redis, SMTP)
    authc-a: 10.77.0.11 (veth)    authc-b: 10.77.0.12 (veth)

Inside a namespace 127.0.0.1 is the namespace's own loopback: the hosts reach
PostgreSQL through its Unix socket and Redis and SMTP on the bridge address.
"""

import ctypes
import socket
import subprocess
import threading

BRIDGE = "authc0"
BRIDGE_ADDRESS = "10.77.0.1"
PREFIX = 24
CLONE_NEWNET = 0x40000000
HOSTS = {"a": "10.77.0.11", "b": "10.77.0.12"}


def namespace(host):
    return f"authc-{host}"


def ip(*args, check=True):
    return subprocess.run(
        ["ip", *args], capture_output=True, text=True, timeout=30, check=check
    )


def tear_down():
    """Remove what an earlier (or this) run made; nothing else is touched."""
    for host in HOSTS:
        ip("netns", "del", namespace(host), check=False)
        ip("link", "del", f"{namespace(host)}0", check=False)
    ip("link", "del", BRIDGE, check=False)


def set_up():
    tear_down()
    ip("link", "add", BRIDGE, "type", "bridge")
    ip("addr", "add", f"{BRIDGE_ADDRESS}/{PREFIX}", "dev", BRIDGE)
    ip("link", "set", BRIDGE, "up")
    for host, address in HOSTS.items():
        name = namespace(host)
        outside, inside = f"{name}0", f"{name}1"
        ip("netns", "add", name)
        ip("link", "add", outside, "type", "veth", "peer", "name", inside)
        ip("link", "set", inside, "netns", name)
        ip("link", "set", outside, "master", BRIDGE)
        ip("link", "set", outside, "up")
        ip("-n", name, "addr", "add", f"{address}/{PREFIX}", "dev", inside)
        ip("-n", name, "link", "set", inside, "up")
        ip("-n", name, "link", "set", "lo", "up")


def in_namespace(host, argv):
    return ["ip", "netns", "exec", namespace(host), *argv]


def listening_socket(host, address, port, backlog):
    """A TCP socket listening in the host's namespace, held by this process as
    systemd holds a .socket unit's: it outlives every gunicorn started on it.

    Made in a thread of its own that enters the namespace (setns acts on the
    calling thread only) and ends; the socket stays in the namespace it was made in.
    """
    made = {}

    def inside():
        libc = ctypes.CDLL(None, use_errno=True)
        with open(f"/run/netns/{namespace(host)}") as target:
            if libc.setns(target.fileno(), CLONE_NEWNET) != 0:
                made["error"] = OSError(ctypes.get_errno(), "setns")
                return
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((address, port))
        listener.listen(backlog)
        made["socket"] = listener

    thread = threading.Thread(target=inside)
    thread.start()
    thread.join()
    if "error" in made:
        raise made["error"]
    return made["socket"]


def with_socket(listener, argv):
    """argv started as systemd starts a socket-activated service: the socket as
    fd 3, LISTEN_FDS=1 and LISTEN_PID its pid (the shell's, kept by exec)."""
    script = 'exec 3<&"$1"; shift; export LISTEN_FDS=1 LISTEN_PID=$$; exec "$@"'
    # bash, not sh: dash takes no descriptor above 9 in a redirection.
    return ["bash", "-c", script, "listen", str(listener.fileno()), *argv]
