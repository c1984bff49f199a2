"""DNS rebinding (issue 16, finding 4): the client connects to the addresses the private-network guard
checked, never to whatever a second lookup of the name answers; TLS still speaks to the portal's name."""

from __future__ import annotations

import datetime
import http.server
import json
import socket
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from portaladmin.portals.client import PortalClient, transport
from portaladmin.portals.client.errors import PortalBlockedAddress, PortalUnavailable
from tests.client import payloads as p

PUBLIC = "93.184.216.34"


def _rebinding_resolver(monkeypatch, name: str, answers: list[str]) -> list[str]:
    """getaddrinfo for `name` answers answers[0], then answers[1] for every later lookup (a rebinding DNS)."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def fake(host, port, *args, **kwargs):
        if host != name:
            return real(host, port, *args, **kwargs)
        ip = answers[min(len(asked), len(answers) - 1)]
        asked.append(ip)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return asked


def _recorded_connects(monkeypatch) -> list[tuple]:
    """Record every TCP connect; the public address is unreachable here, so refuse it quickly."""
    real = socket.socket.connect
    seen: list[tuple] = []

    def connect(sock, address):
        seen.append(address)
        if address[0] == PUBLIC:
            raise ConnectionRefusedError(111, "Connection refused")
        return real(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return seen


def test_second_lookup_answering_loopback_is_not_followed(local_portal, monkeypatch, settings):
    settings.PORTALS_ALLOW_PRIVATE_NETWORKS = False
    local_portal.route("GET", "/datasets/", p.page([], total=7))
    port = local_portal.server.server_address[1]
    asked = _rebinding_resolver(monkeypatch, "rebind.example", [PUBLIC, "127.0.0.1"])
    connects = _recorded_connects(monkeypatch)
    client = PortalClient(base_url=f"http://rebind.example:{port}", api_key="k" * 16, timeout=(1, 1))

    with pytest.raises(PortalUnavailable):
        client.dataset_count()

    assert asked == [PUBLIC]  # one lookup, checked, then reused for the connection
    assert connects and all(address == (PUBLIC, port) for address in connects)
    assert local_portal.requests == []  # nothing reached 127.0.0.1
    client.close()


def test_rebinding_after_the_check_expired_is_refused_at_connect_time(local_portal, monkeypatch, settings):
    settings.PORTALS_ALLOW_PRIVATE_NETWORKS = False
    monkeypatch.setattr(transport, "GUARD_TTL", 0.0)  # every connection looks the name up again
    local_portal.route("GET", "/datasets/", p.page([], total=7))
    port = local_portal.server.server_address[1]
    asked = _rebinding_resolver(monkeypatch, "rebind.example", [PUBLIC, "127.0.0.1"])
    connects = _recorded_connects(monkeypatch)
    client = PortalClient(base_url=f"http://rebind.example:{port}", api_key="k" * 16, timeout=(1, 1))

    with pytest.raises(PortalBlockedAddress) as exc:
        client.dataset_count()

    assert "127.0.0.1" in str(exc.value) and exc.value.path == "/datasets/"
    assert asked[:2] == [PUBLIC, "127.0.0.1"]
    assert all(address[0] != "127.0.0.1" for address in connects)
    assert local_portal.requests == []
    client.close()


# ---------------------------------------------------------------------------------- TLS on a pinned address

def _certificate(tmp_path, name: str):
    """A throwaway CA and a server certificate for `name` signed by it; returns (ca file, cert file, key file)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "portaladmin test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(hours=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_file, cert_file, key_file = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return ca_file, cert_file, key_file


@pytest.fixture
def tls_portal(tmp_path):
    """An HTTPS server on 127.0.0.1 with a certificate for portal.test; records SNI names and Host headers."""
    seen = {"sni": [], "host": []}
    servers = []

    def start(cert_name: str):
        ca_file, cert_file, key_file = _certificate(tmp_path, cert_name)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        context.sni_callback = lambda sock, name, ctx: seen["sni"].append(name)

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                seen["host"].append(self.headers.get("Host"))
                body = json.dumps(p.page([], total=3)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return server.server_address[1], ca_file

    yield start, seen
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("cert_name, works", [("portal.test", True), ("other.test", False)])
def test_pinned_tls_connection_uses_the_name_for_sni_certificate_and_host(tls_portal, monkeypatch, settings,
                                                                          cert_name, works):
    settings.PORTALS_ALLOW_PRIVATE_NETWORKS = True  # portal.test lives on 127.0.0.1 here
    start, seen = tls_portal
    port, ca_file = start(cert_name)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))
    _rebinding_resolver(monkeypatch, "portal.test", ["127.0.0.1"])
    client = PortalClient(base_url=f"https://portal.test:{port}", api_key="k" * 16, timeout=(2, 2))
    if works:
        assert client.dataset_count() == 3
        assert seen["host"] == [f"portal.test:{port}"]
    else:  # the certificate is checked against the name, not the address connected to
        with pytest.raises(PortalUnavailable, match="TLS error"):
            client.dataset_count()
    assert seen["sni"][0] == "portal.test"
    client.close()
