"""Built-in prohibitions: no policy document, application or role can lift these."""

from __future__ import annotations

import unicodedata

from regard.governance.purposes import Category

PROHIBIT_SURVEILLANCE = "PROHIBIT-UNTARGETED-SURVEILLANCE"
PROHIBIT_CATEGORISATION = "PROHIBIT-BIOMETRIC-CATEGORISATION"
PROHIBIT_EMOTION = "PROHIBIT-EMOTION-RECOGNITION"
PROHIBIT_SCRAPING = "PROHIBIT-SCRAPED-DATABASE"
PROHIBIT_UNKNOWN_SOURCE = "PROHIBIT-UNKNOWN-SOURCE"

PROHIBITED_CATEGORIES: dict[Category, tuple[str, str]] = {
    Category.MASS_SURVEILLANCE: (
        PROHIBIT_SURVEILLANCE,
        "untargeted mass surveillance is prohibited: searches need an individual, documented target",
    ),
    Category.BIOMETRIC_CATEGORISATION: (
        PROHIBIT_CATEGORISATION,
        "inferring race, ethnicity, religion, political opinion or sexual orientation from faces is prohibited",
    ),
    Category.EMOTION_RECOGNITION: (PROHIBIT_EMOTION, "emotion recognition is prohibited"),
    Category.SCRAPED_DATABASE: (PROHIBIT_SCRAPING, "building face databases by scraping is prohibited"),
}

# Where an enrolled image may come from; anything scraped is refused.
ALLOWED_PROVENANCE = frozenset({"upload", "camera", "document", "import"})
SCRAPED_PROVENANCE = frozenset({"scraped", "web-crawl", "social-media-scrape"})

# Where a search's probe comes from: a closed set, so a new kind of feed cannot pass as a single image.
#   upload       an image a person chose and sent (a photo, a scan)
#   stored-face  a face already enrolled (search by face id)
#   camera       one still taken on purpose by an operator (a desk camera, a phone), one person in view
#   stream       frames of a continuous video feed (CCTV, body cameras, live streams)
#   bulk         a batch of images searched in one go (a folder, a dump, a crawl)
SOURCES = frozenset({"upload", "stored-face", "camera", "stream", "bulk"})
# Against watchlists these are untargeted surveillance, whatever else the call says.
UNTARGETED_SOURCES = frozenset({"stream", "bulk"})

# What people type when a form insists on a case reference they do not have.
PLACEHOLDER_REFERENCES = frozenset(
    {
        "na", "none", "null", "nil", "nothing", "no", "tbd", "tba", "todo", "tbc", "test", "testing", "unknown",
        "unk", "placeholder", "dummy", "sample", "example", "default", "pending", "later", "various", "general",
        "misc", "any", "all", "anyone", "everyone", "case", "ref", "reference", "caseref", "casereference",
        "notapplicable", "notavailable", "nonegiven", "asdf", "qwerty", "foo", "bar", "foobar",
    }
)  # fmt: skip


def documents_a_target(case_reference: str | None) -> bool:
    """Whether a case reference can document an individual target: not blank, not a placeholder.

    Letters and digits are what identify a case file, so only they are compared: "N/A", " n.a. "
    and "<none>" are the placeholders "na" and "none".  A reference needs at least three of them,
    not all the same character ("0000", "xxx").
    """
    if not isinstance(case_reference, str):
        return False
    folded = unicodedata.normalize("NFKC", case_reference).casefold()
    essential = "".join(c for c in folded if c.isalnum())
    return len(essential) >= 3 and len(set(essential)) > 1 and essential not in PLACEHOLDER_REFERENCES
