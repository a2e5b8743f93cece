"""Fixtures of the organisation tests: the private LDAP directory of tests/ldap_server.py."""

from tests.ldap_server import ldap_directory

__all__ = ["ldap_directory"]
