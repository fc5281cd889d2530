"""The local DNS server answers what the test set, over UDP and TCP, and records queries."""

import os

import dns.rdatatype
import dns.resolver
import pytest

from tests.harness.dns import DnsQuery, LocalDnsServer


def _resolver(server: LocalDnsServer, lifetime: float = 2.0) -> dns.resolver.Resolver:
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [server.host]
    resolver.port = server.port
    resolver.lifetime = lifetime
    resolver.timeout = lifetime
    resolver.cache = None
    return resolver


def _texts(answer: dns.resolver.Answer) -> list[str]:
    return sorted(rdata.to_text() for rdata in answer)


def test_fixture_points_the_product_at_the_server(dns_server: LocalDnsServer) -> None:
    host, port = dns_server.address.split(":")
    assert host == "127.0.0.1"
    assert int(port) == dns_server.port > 0
    assert os.environ["MAIL_DNS_SERVER"] == dns_server.address


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_answers_each_record_type(dns_server: LocalDnsServer, tcp: bool) -> None:
    dns_server.set("example.test", "A", ["127.0.0.2", "127.0.0.3"])
    dns_server.set("example.test", "AAAA", "::1")
    dns_server.set("example.test", "MX", ["10 mx.example.test.", "20 mx2.example.test"])
    dns_server.set("example.test", "TXT", "v=spf1 -all")
    dns_server.set("www.example.test", "CNAME", "example.test.")
    dns_server.set("_imaps._tcp.example.test", "SRV", "0 1 993 imap.example.test.", ttl=300)
    resolver = _resolver(dns_server)

    def ask(name: str, rtype: str) -> dns.resolver.Answer:
        return resolver.resolve(name, rtype, tcp=tcp)

    assert _texts(ask("example.test", "A")) == ["127.0.0.2", "127.0.0.3"]
    assert _texts(ask("Example.TEST.", "AAAA")) == ["::1"]
    assert _texts(ask("example.test", "MX")) == ["10 mx.example.test.", "20 mx2.example.test."]
    assert _texts(ask("example.test", "TXT")) == ['"v=spf1 -all"']
    assert _texts(ask("www.example.test", "CNAME")) == ["example.test."]
    srv = ask("_imaps._tcp.example.test", "SRV")
    assert _texts(srv) == ["0 1 993 imap.example.test."]
    assert srv.rrset is not None and srv.rrset.ttl == 300
    transport = "tcp" if tcp else "udp"
    assert {q.transport for q in dns_server.queries} == {transport}


def test_follows_local_cnames(dns_server: LocalDnsServer) -> None:
    dns_server.set("autoconfig.example.test", "CNAME", "web.example.test.")
    dns_server.set("web.example.test", "A", "127.0.0.2")
    answer = _resolver(dns_server).resolve("autoconfig.example.test", "A")
    assert _texts(answer) == ["127.0.0.2"]
    assert answer.canonical_name.to_text() == "web.example.test."


def test_unknown_name_is_nxdomain_and_other_type_is_empty(dns_server: LocalDnsServer) -> None:
    dns_server.set("mail.example.test", "A", "127.0.0.2")
    resolver = _resolver(dns_server)
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolver.resolve("nowhere.example.test", "A")
    with pytest.raises(dns.resolver.NoAnswer):
        resolver.resolve("mail.example.test", "MX")
    # A parent of a known name exists (an empty non-terminal), with no records.
    with pytest.raises(dns.resolver.NoAnswer):
        resolver.resolve("example.test", "A")


def test_long_txt_is_truncated_over_udp_and_retried_over_tcp(
    dns_server: LocalDnsServer,
) -> None:
    key = "v=DKIM1; k=rsa; p=" + "A" * 700  # a DKIM key does not fit in 512 bytes
    dns_server.set("mail._domainkey.example.test", "TXT", key)
    resolver = _resolver(dns_server)
    resolver.use_edns(False)
    answer = resolver.resolve("mail._domainkey.example.test", "TXT")
    assert b"".join(answer[0].strings).decode() == key
    assert [q.transport for q in dns_server.queries] == ["udp", "tcp"]


def test_silenced_name_times_out(dns_server: LocalDnsServer) -> None:
    dns_server.set("slow.example.test", "MX", "10 mx.example.test.")
    dns_server.silence("slow.example.test")
    with pytest.raises(dns.resolver.LifetimeTimeout):
        _resolver(dns_server, lifetime=0.3).resolve("slow.example.test", "MX")
    assert dns_server.queries_for("slow.example.test", "MX")


def test_failing_name_answers_servfail(dns_server: LocalDnsServer) -> None:
    dns_server.fail("broken.example.test")
    with pytest.raises(dns.resolver.NoNameservers):
        _resolver(dns_server).resolve("broken.example.test", "A")


def test_records_queries_and_clear_forgets_everything(dns_server: LocalDnsServer) -> None:
    dns_server.set("example.test", "MX", "10 mx.example.test.")
    resolver = _resolver(dns_server)
    resolver.resolve("example.test", "MX")
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolver.resolve("other.test", "A")
    assert dns_server.queries == [
        DnsQuery("example.test", "MX", "udp"),
        DnsQuery("other.test", "A", "udp"),
    ]
    assert len(dns_server.queries_for("EXAMPLE.test.")) == 1
    dns_server.silence("other.test")
    dns_server.clear()
    assert dns_server.queries == []
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolver.resolve("example.test", "MX")
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolver.resolve("other.test", "A")  # no longer silenced


def test_fixture_starts_each_test_empty(dns_server: LocalDnsServer) -> None:
    # Runs after tests that set records: nothing of theirs is left.
    assert dns_server.queries == []
    with pytest.raises(dns.resolver.NXDOMAIN):
        _resolver(dns_server).resolve("example.test", dns.rdatatype.to_text(dns.rdatatype.MX))


def test_own_server_on_a_free_port_closes_cleanly() -> None:
    with LocalDnsServer() as server:
        server.set("a.test", "A", "127.0.0.9")
        assert _texts(_resolver(server).resolve("a.test", "A", tcp=True)) == ["127.0.0.9"]
    with pytest.raises(dns.resolver.LifetimeTimeout):
        _resolver(server, lifetime=0.2).resolve("a.test", "A")
