"""The pieces later discovery tests combine: names from the local DNS server lead to the real
mail servers on standard ports and to the local HTTPS server, all with verified certificates."""

import http.client
import imaplib
import smtplib
import socket
import ssl
from collections.abc import Callable

import dns.resolver

from tests.harness.dns import LocalDnsServer
from tests.harness.https import LocalHttpsServer
from tests.harness.mailservers import MailServers, MailUser
from tests.harness.ports import STANDARD_HOST


def resolve(server: LocalDnsServer, name: str, rtype: str = "A") -> list[str]:
    resolver = dns.resolver.Resolver(configure=False)
    host, port = server.address.rsplit(":", 1)
    resolver.nameservers, resolver.port, resolver.lifetime = [host], int(port), 2
    return [answer.to_text() for answer in resolver.resolve(name, rtype)]


def test_an_mx_record_leads_to_imap_and_submission_on_standard_ports(
    mail_servers: MailServers, mail_user: Callable[..., MailUser], dns_server: LocalDnsServer
) -> None:
    user = mail_user()
    dns_server.set("example.test", "MX", "10 mx.example.test.")
    dns_server.set("imap.example.test", "A", STANDARD_HOST)
    dns_server.set("smtp.example.test", "A", STANDARD_HOST)

    assert resolve(dns_server, "example.test", "MX") == ["10 mx.example.test."]
    address = resolve(dns_server, "imap.example.test")[0]
    context = ssl.create_default_context(cafile=str(mail_servers.endpoints.ca_file))
    with (
        socket.create_connection((address, 993), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="imap.example.test") as tls,
    ):
        assert tls.recv(100).startswith(b"* OK")
    with imaplib.IMAP4(address, 143, timeout=5) as client:
        client.starttls(ssl_context=context)
        assert client.login(user.login, user.password)[0] == "OK"
    smtp_address = resolve(dns_server, "smtp.example.test")[0]
    with smtplib.SMTP(smtp_address, 587, timeout=5) as smtp:
        smtp.starttls(context=context)
        assert smtp.login(user.login, user.password)[0] == 235


def test_an_autoconfig_name_leads_to_the_https_server(
    dns_server: LocalDnsServer, https_server: LocalHttpsServer, test_ca
) -> None:
    dns_server.set("autoconfig.example.test", "A", STANDARD_HOST)
    https_server.route("autoconfig.example.test", "/mail/config-v1.1.xml", b"<clientConfig/>")

    address = resolve(dns_server, "autoconfig.example.test")[0]
    context = ssl.create_default_context(cafile=str(test_ca.ca_file))
    connection = http.client.HTTPSConnection(address, 443, context=context, timeout=5)
    connection.sock = context.wrap_socket(
        socket.create_connection((address, 443), timeout=5),
        server_hostname="autoconfig.example.test",
    )
    connection.request("GET", "/mail/config-v1.1.xml", headers={"Host": "autoconfig.example.test"})
    response = connection.getresponse()

    assert response.status == 200
    assert response.read() == b"<clientConfig/>"
    connection.close()
