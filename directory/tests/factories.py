"""Factories for directory inputs: plain dataclasses handed to the services."""

import datetime as dt

import factory

from directory.records import NewAddress, NewCarer, NewChild, NewName, Source

FEED_SOURCE = Source(kind="feed", reference="test-feed")


class NewNameFactory(factory.Factory):
    class Meta:
        model = NewName

    given_names = "Victoria"
    family_name = "Climbié"
    kind = "legal"


class NewAddressFactory(factory.Factory):
    class Meta:
        model = NewAddress

    lines = ("12 Acacia Avenue", "Tottenham", "London")
    postcode = "N17 6QA"
    is_current = True


class NewCarerFactory(factory.Factory):
    class Meta:
        model = NewCarer

    name = "Marie-Thérèse Kouao"
    relationship = "other_relative"
    parental_responsibility = False
    phone = "07700 900123"
    email = "carer@example.org"
    address = "12 Acacia Avenue, London N17 6QA"


class NewChildFactory(factory.Factory):
    class Meta:
        model = NewChild

    names = factory.LazyFunction(lambda: (NewNameFactory.build(),))
    date_of_birth = dt.date(2015, 11, 2)
    gender = "2"
    nhs_number = "943 476 5919"
    upn = None
    addresses = factory.LazyFunction(lambda: (NewAddressFactory.build(),))
    carers = factory.LazyFunction(lambda: (NewCarerFactory.build(),))
