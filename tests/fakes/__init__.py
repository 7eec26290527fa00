"""Test doubles: the in-memory twin of storage (``tests.fakes.uow.InMemoryDatabase``)."""
