"""A real Dovecot IMAP server for one test: own config, port, users and maildirs.

Started from Debian's dovecot-imapd (`dovecot -F -c …`); the test suite seeds
and inspects mailboxes with the standard library's imaplib, so the gateway's
client (aioimaplib) is checked against an independent one.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.services import unavailable

PASSWORD = "imap-test-password"


@dataclass(frozen=True)
class Dovecot:
    host: str
    port: int  # plain IMAP, STARTTLS offered when the server has a certificate
    tls_port: int | None = None  # IMAP over TLS
    ca_file: str | None = None  # the self-signed certificate clients must trust

    def client(self, user: str) -> imaplib.IMAP4:
        """A logged-in stdlib client (the test's own view of the mailbox)."""
        client = imaplib.IMAP4(self.host, self.port)
        client.login(user, PASSWORD)
        return client

    def append(self, user: str, folder: str, raw: bytes, internal_date: float | None = None) -> None:
        with _session(self, user) as client:
            when = imaplib.Time2Internaldate(internal_date) if internal_date else None
            status, detail = client.append(folder, None, when, raw)
            assert status == "OK", detail

    def flags(self, user: str, folder: str) -> list[str]:
        """FLAGS of every mail in the folder, in UID order."""
        with _session(self, user) as client:
            client.select(folder, readonly=True)
            _, data = client.uid("FETCH", "1:*", "(FLAGS)")
            return [item.decode() for item in data if item]

    def recreate(self, user: str, folder: str) -> None:
        """Delete the folder if it exists and make it anew: the server gives it a new UIDVALIDITY."""
        with _session(self, user) as client:
            client.delete(folder)
            status, detail = client.create(folder)
            assert status == "OK", detail

    def count(self, user: str, folder: str) -> int:
        with _session(self, user) as client:
            status, data = client.select(folder, readonly=True)
            assert status == "OK", data
            return int(data[0])


@contextmanager
def _session(server: Dovecot, user: str) -> Iterator[imaplib.IMAP4]:
    client = server.client(user)
    try:
        yield client
    finally:
        client.logout()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _self_signed_certificate(root: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, made with the openssl command."""
    cert, key = root / "cert.pem", root / "key.pem"
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
                       check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        unavailable(f"cannot make a test certificate with openssl: {exc}")
    return cert, key


def _tls_settings(root: Path, tls_port: int | None) -> tuple[str, str]:
    """(global ssl settings, imaps listener port) for the config."""
    if tls_port is None:
        return "ssl = no\n", "0"
    cert, key = _self_signed_certificate(root)
    return f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}\n", str(tls_port)


def _config(root: Path, port: int, tls_port: int | None, users: list[str], folders: list[str]) -> str:
    """Plain-text IMAP on loopback; as root the mail belongs to `nobody`, otherwise to us."""
    if os.getuid() == 0:
        service_users = "default_internal_user = dovecot\ndefault_login_user = dovenull\n"
        mail_owner = "uid=nobody gid=nogroup"
    else:
        me = pwd.getpwuid(os.getuid()).pw_name
        service_users = f"default_internal_user = {me}\ndefault_login_user = {me}\n"
        mail_owner = f"uid={os.getuid()} gid={os.getgid()}"
    mailboxes = "".join(f"  mailbox {name} {{\n    auto = create\n  }}\n" for name in folders)
    ssl_settings, imaps_port = _tls_settings(root, tls_port)
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl_settings}disable_plaintext_auth = no
auth_mechanisms = plain login
{service_users}first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = {mail_owner} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
  }}
}}
service anvil {{
  chroot =
}}
namespace inbox {{
  inbox = yes
{mailboxes}}}
"""


@contextmanager
def dovecot(users: list[str], folders: tuple[str, ...] = ("Sent", "Processed"), tls: bool = False) -> Iterator[Dovecot]:
    """A running Dovecot with `users` (password PASSWORD) and `folders` besides INBOX;
    with `tls`, also IMAP over TLS and STARTTLS with a self-signed certificate.

    Its files live in a directory of its own that Dovecot's unprivileged
    processes can reach (pytest's tmp_path is private to the test user).
    """
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
    if binary is None:
        unavailable("Dovecot is not installed (Debian: apt-get install dovecot-imapd)")
    root = Path(tempfile.mkdtemp(prefix="relaydesk-dovecot-"))
    root.chmod(0o755)
    try:
        with _running(binary, root, users, folders, tls) as server:
            yield server
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def _running(binary: str, root: Path, users: list[str], folders: tuple[str, ...], tls: bool) -> Iterator[Dovecot]:
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    if os.getuid() == 0:
        shutil.chown(root / "mail", "nobody", "nogroup")
    (root / "passwd").write_text("".join(f"{user}:{{PLAIN}}{PASSWORD}::::::\n" for user in users))
    port, tls_port = _free_port(), (_free_port() if tls else None)
    (root / "dovecot.conf").write_text(_config(root, port, tls_port, users, list(folders)))
    process = subprocess.Popen([binary, "-F", "-c", str(root / "dovecot.conf")],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for listening in (port, tls_port):
            if listening is not None:
                _wait_for_port(listening, process, root)
        yield Dovecot("127.0.0.1", port, tls_port, str(root / "cert.pem") if tls else None)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_port(port: int, process: subprocess.Popen, root: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode("utf-8", "replace") if process.stdout else ""
            log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
            unavailable(f"Dovecot did not start: {output or log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    unavailable("Dovecot did not open its port within 15 s")
