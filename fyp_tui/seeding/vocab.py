"""Built-in tables the generator draws from: topics, countries, generic hashtags.

Faker supplies the locale-specific words (names, handles, caption words, song
titles); these tables only name what Faker cannot: which topics exist, which
country speaks which language with which Faker locale.
"""

from __future__ import annotations

#: topic name -> related words used to build its hashtag vocabulary.
TOPICS: dict[str, tuple[str, ...]] = {
    "comedy": ("funny", "skit", "lol", "jokes"),
    "dance": ("dancechallenge", "choreo", "dancer", "moves"),
    "cooking": ("recipe", "foodtok", "chef", "kitchen"),
    "fitness": ("gym", "workout", "gains", "cardio"),
    "gaming": ("gamer", "twitch", "speedrun", "console"),
    "beauty": ("makeup", "grwm", "glam", "lashes"),
    "fashion": ("ootd", "outfit", "style", "thrift"),
    "pets": ("dog", "cat", "puppy", "petsoftiktok"),
    "travel": ("wanderlust", "roadtrip", "hiddengems", "backpacking"),
    "music": ("cover", "singer", "guitar", "newmusic"),
    "diy": ("crafty", "homemade", "upcycle", "build"),
    "science": ("physics", "chemistry", "experiment", "space"),
    "history": ("historytok", "ancient", "didyouknow", "archive"),
    "finance": ("money", "investing", "budget", "stocks"),
    "tech": ("gadgets", "coding", "ai", "setup"),
    "football": ("soccer", "goal", "skills", "matchday"),
    "basketball": ("nba", "hoops", "dunk", "ballislife"),
    "cars": ("carsoftiktok", "jdm", "supercar", "detailing"),
    "books": ("booktok", "reading", "novel", "bookclub"),
    "art": ("drawing", "painting", "artist", "sketch"),
    "photography": ("photo", "camera", "portrait", "lightroom"),
    "gardening": ("plants", "garden", "houseplants", "growyourown"),
    "parenting": ("momlife", "dadlife", "toddler", "family"),
    "education": ("learnontiktok", "studytok", "teacher", "exam"),
    "movies": ("film", "cinema", "review", "behindthescenes"),
    "anime": ("manga", "otaku", "cosplay", "animeedit"),
    "skincare": ("skin", "routine", "glowup", "spf"),
    "asmr": ("tingles", "satisfying", "relaxing", "sleep"),
    "motivation": ("mindset", "grind", "selfimprovement", "goals"),
    "relationships": ("dating", "couple", "love", "advice"),
    "news": ("breaking", "explained", "politics", "update"),
    "nature": ("wildlife", "outdoors", "hiking", "ocean"),
    "fishing": ("fish", "angler", "bass", "fishtok"),
    "baking": ("bread", "cake", "sourdough", "dessert"),
    "magic": ("trick", "illusion", "cardtrick", "magician"),
    "pranks": ("prank", "reaction", "scare", "hiddencamera"),
    "lifehacks": ("hack", "tips", "productivity", "cleantok"),
    "languages": ("polyglot", "vocab", "grammar", "accent"),
    "vlog": ("dayinmylife", "routine", "storytime", "vlogger"),
    "food": ("mukbang", "streetfood", "foodie", "tasting"),
}

#: Suffixes combined with a topic's words to make more tags (#cookingtips ...).
TAG_SUFFIXES = (
    "tok", "tips", "life", "hacks", "daily", "challenge", "lover", "ideas",
    "goals", "vibes", "check", "time", "101", "trend", "community", "fyp",
    "world", "addict", "inspo", "clips", "edit", "moment", "pro", "fail",
)

#: Topic-less tags that many videos carry.
GENERIC_HASHTAGS = (
    "fyp", "foryou", "foryoupage", "viral", "trending", "fy", "xyzbca",
    "explore", "duet", "stitch", "tiktok", "fypage",
)

DEVICES = ("ios", "android", "web")

#: country code -> (language code, Faker locale for people, Faker locale for words).
#: The word locale differs where Faker has no word list in the people locale.
COUNTRIES: dict[str, tuple[str, str, str]] = {
    "US": ("en", "en_US", "en_US"),
    "GB": ("en", "en_GB", "en_US"),
    "IN": ("en", "en_IN", "en_US"),
    "IE": ("en", "en_IE", "en_US"),
    "NZ": ("en", "en_NZ", "en_US"),
    "NG": ("en", "en_NG", "en_US"),
    "PH": ("tl", "fil_PH", "tl_PH"),
    "DE": ("de", "de_DE", "de_DE"),
    "AT": ("de", "de_AT", "de_AT"),
    "FR": ("fr", "fr_FR", "fr_FR"),
    "ES": ("es", "es_ES", "es_ES"),
    "MX": ("es", "es_MX", "es_MX"),
    "AR": ("es", "es_AR", "es_AR"),
    "BR": ("pt", "pt_BR", "pt"),
    "PT": ("pt", "pt_PT", "pt"),
    "IT": ("it", "it_IT", "it_IT"),
    "NL": ("nl", "nl_NL", "nl_NL"),
    "PL": ("pl", "pl_PL", "pl_PL"),
    "CZ": ("cs", "cs_CZ", "cs_CZ"),
    "DK": ("da", "da_DK", "da_DK"),
    "GR": ("el", "el_GR", "el_GR"),
    "RU": ("ru", "ru_RU", "ru_RU"),
    "UA": ("uk", "uk_UA", "uk_UA"),
    "JP": ("ja", "ja_JP", "ja_JP"),
    "CN": ("zh", "zh_CN", "zh_CN"),
    "TW": ("zh", "zh_TW", "zh_TW"),
    "VN": ("vi", "vi_VN", "vi_VN"),
    "TH": ("th", "th_TH", "th_TH"),
    "IL": ("he", "he_IL", "he_IL"),
    "IR": ("fa", "fa_IR", "fa_IR"),
}

#: Faker has no Portuguese word list; a small one keeps Brazilian captions Portuguese.
PORTUGUESE_WORDS = (
    "hoje", "amanhã", "casa", "vida", "amor", "dia", "noite", "receita", "treino",
    "viagem", "praia", "música", "dança", "gato", "cachorro", "comida", "bonito",
    "incrível", "melhor", "nunca", "sempre", "tempo", "mundo", "festa", "amigos",
    "família", "sol", "cidade", "fácil", "rápido", "novo", "primeiro", "verdade",
    "olha", "isso", "muito", "coisa", "gente", "trabalho", "escola", "jogo",
    "café", "sorriso", "sonho", "caminho", "segredo", "dica", "final", "parte",
    "história",
)

EMOJI = ("✨", "🔥", "😂", "❤️", "🙌", "😍", "💀", "👀", "🎶", "💯", "🥹", "😭")
