"""Built-in prohibitions: no policy document, application or role can lift these."""

from __future__ import annotations

from regard.governance.purposes import Category

PROHIBIT_SURVEILLANCE = "PROHIBIT-UNTARGETED-SURVEILLANCE"
PROHIBIT_CATEGORISATION = "PROHIBIT-BIOMETRIC-CATEGORISATION"
PROHIBIT_EMOTION = "PROHIBIT-EMOTION-RECOGNITION"
PROHIBIT_SCRAPING = "PROHIBIT-SCRAPED-DATABASE"

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

# Probe sources; bulk and stream searches against watchlists are untargeted surveillance.
UNTARGETED_SOURCES = frozenset({"stream", "bulk"})
