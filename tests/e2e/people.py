"""The cast of the acceptance scenarios (scenarios/README.md), as mail senders."""

from tests.e2e.mail_clients import Person

ALICE = Person("Alice Customer", "alice@client.example")
DANA = Person("Dana Dispatcher", "dana@vendor.example")
PAUL = Person("Paul Partner", "paul@partner.example")
SAM = Person("Sam Schuster", "sam@subco.example")
MALLORY = Person("Mallory", "mallory@evil.example")
VENDOR = "support@vendor.example"
PARTNER = "service@partner.example"
