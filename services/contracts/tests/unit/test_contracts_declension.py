"""Issue 13 §5: the contract's preamble declines the signatory («в лице …») by pymorphy3."""

from __future__ import annotations

import pytest

from contracts.documents.declension import in_person_of

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("position", "name", "female", "genitive"), [
    ("Генеральный директор", "Петров Иван Сергеевич", False,
     "Генерального директора Петрова Ивана Сергеевича"),
    ("Директор", "Смирнова Анна Петровна", True, "Директора Смирновой Анны Петровны"),
    ("Индивидуальный предприниматель", "Кузьмичёв Пётр Ильич", False,
     "Индивидуального предпринимателя Кузьмичёва Петра Ильича"),
    ("Директор по развитию", "Римский-Корсаков Николай Андреевич", False,
     "Директора по развитию Римского-Корсакова Николая Андреевича"),
    ("Генеральный директор", "Шевченко Ольга Николаевна", True,
     "Генерального директора Шевченко Ольги Николаевны"),  # the surname does not decline
    ("Управляющий", "Белых Марина Ивановна", True, "Управляющего Белых Марины Ивановны"),
])
def test_position_and_name_in_the_genitive(position: str, name: str, female: bool,
                                           genitive: str) -> None:
    assert in_person_of(position, name, female) == genitive
