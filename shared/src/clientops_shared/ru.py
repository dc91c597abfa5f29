"""Russian words every service's documents, mail and pages use."""

from __future__ import annotations

# Nominative = accusative for these inanimate masculine nouns, so «за декабрь» reads right.
MONTHS = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь",
          "октябрь", "ноябрь", "декабрь")
