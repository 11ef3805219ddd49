"""Country facts the generator draws from: places, phone plans, email providers, money.

All values are fictional or generic (street names, number ranges); postcodes
follow each country's shape but are not checked against real ones.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PhonePlan:
    """A kind of phone number: national prefixes, national number length, digit grouping."""

    prefixes: tuple[str, ...]
    length: int
    groups: tuple[int, ...]


@dataclass(frozen=True)
class City:
    """A city: its local name, other spellings people type, postcode source, store code."""

    name: str
    aliases: tuple[str, ...]
    postcodes: tuple[str, ...]
    store_code: str


@dataclass(frozen=True)
class Country:
    """Everything country-specific the generator needs."""

    code: str
    weight: float
    currency: str
    vat_rate: float
    language: str
    dialling_code: str
    trunk_prefix: str
    mobile: PhonePlan
    landline: PhonePlan
    cities: tuple[City, ...]
    street_format: str
    streets: tuple[str, ...]
    street_abbreviations: tuple[tuple[str, str], ...]
    providers: tuple[tuple[str, float], ...]
    work_domains: tuple[str, ...]
    spellings: tuple[str, ...]
    salutations_male: tuple[str, ...]
    salutations_female: tuple[str, ...]
    stores_per_city: int = 1


def _cities(*specs: tuple[str, str, str, str]) -> tuple[City, ...]:
    """Cities from (name, "alias|alias", "postcode|postcode", store code) tuples."""
    return tuple(
        City(name, tuple(a for a in aliases.split("|") if a), tuple(codes.split("|")), store)
        for name, aliases, codes, store in specs
    )


def _weights(spec: str) -> tuple[tuple[str, float], ...]:
    out = []
    for item in spec.split():
        domain, weight = item.split(":")
        out.append((domain, float(weight)))
    return tuple(out)


def _list(spec: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in spec.split("|"))


_COMMON_PROVIDERS = "gmail.com:34 outlook.com:7 hotmail.com:6 yahoo.com:4 icloud.com:5"

COUNTRIES: dict[str, Country] = {
    c.code: c
    for c in (
        Country(
            code="GB",
            weight=0.22,
            currency="GBP",
            vat_rate=0.20,
            language="en",
            dialling_code="44",
            trunk_prefix="0",
            mobile=PhonePlan(("74", "75", "77", "78", "79"), 10, (4, 6)),
            landline=PhonePlan(("20", "161", "121", "113", "131"), 10, (3, 3, 4)),
            cities=_cities(
                ("London", "LONDON|london|Greater London", "SW1A|E1|N1|SE1|W2|NW3|EC1A|E14", "LON"),
                ("Manchester", "MANCHESTER|Manchster", "M1|M4|M14|M20", "MAN"),
                ("Birmingham", "B'ham|BIRMINGHAM", "B1|B15|B29", "BHM"),
                ("Leeds", "LEEDS", "LS1|LS6|LS11", "LDS"),
                ("Glasgow", "GLASGOW", "G1|G12|G41", "GLA"),
                ("Bristol", "BRISTOL", "BS1|BS8|BS6", "BRS"),
                ("Edinburgh", "Edinburg|EDINBURGH", "EH1|EH3|EH10", "EDI"),
            ),
            street_format="{n} {street}",
            streets=_list(
                "High Street|Station Road|Church Lane|Victoria Road|Park Avenue|Mill Lane|"
                "King Street|Queensway|Manor Road|Green Lane|Albert Road|Windsor Close"
            ),
            street_abbreviations=(("Street", "St"), ("Road", "Rd"), ("Avenue", "Ave")),
            providers=_weights(
                _COMMON_PROVIDERS + " btinternet.com:5 sky.com:3 hotmail.co.uk:6 yahoo.co.uk:4"
            ),
            work_domains=_list(
                "harbourline.co.uk|kestrel-legal.co.uk|brightwave.io|nhs-trust.example"
            ),
            spellings=_list("United Kingdom|UK|GB|U.K.|England|Great Britain|united kingdom"),
            salutations_male=_list("Mr|Mr.|Dr"),
            salutations_female=_list("Mrs|Ms|Miss|Ms.|Dr"),
            stores_per_city=2,
        ),
        Country(
            code="US",
            weight=0.14,
            currency="USD",
            vat_rate=0.08,
            language="en",
            dialling_code="1",
            trunk_prefix="",
            mobile=PhonePlan(
                ("212", "312", "415", "617", "206", "512", "303", "305", "702"), 10, (3, 3, 4)
            ),
            landline=PhonePlan(
                ("212", "312", "415", "617", "206", "512", "303", "305", "702"), 10, (3, 3, 4)
            ),
            cities=_cities(
                ("New York", "NYC|New York City|NEW YORK|Brooklyn", "100|101|112", "NYC"),
                ("Chicago", "CHICAGO|Chgo", "606", "CHI"),
                ("San Francisco", "SF|San Fran|SAN FRANCISCO", "941", "SFO"),
                ("Boston", "BOSTON", "021", "BOS"),
                ("Seattle", "SEATTLE", "981", "SEA"),
                ("Austin", "AUSTIN", "787", "AUS"),
                ("Denver", "DENVER", "802", "DEN"),
                ("Miami", "MIAMI|Miami Beach", "331", "MIA"),
            ),
            street_format="{n} {street}",
            streets=_list(
                "Main Street|Oak Avenue|Maple Drive|Washington Boulevard|Park Avenue|Elm Street|"
                "Cedar Lane|Sunset Boulevard|Lake Shore Drive|2nd Avenue|Pine Street|Broadway"
            ),
            street_abbreviations=(
                ("Street", "St"),
                ("Avenue", "Ave"),
                ("Boulevard", "Blvd"),
                ("Drive", "Dr"),
            ),
            providers=_weights(
                _COMMON_PROVIDERS + " aol.com:4 comcast.net:3 att.net:2 yahoo.com:6"
            ),
            work_domains=_list(
                "summit-analytics.com|redwoodhealth.org|bluepeak.io|harborfreight-logistics.com"
            ),
            spellings=_list("United States|USA|US|U.S.A.|United States of America|usa"),
            salutations_male=_list("Mr.|Mr|Dr."),
            salutations_female=_list("Ms.|Mrs.|Ms|Miss|Dr."),
            stores_per_city=1,
        ),
        Country(
            code="DE",
            weight=0.18,
            currency="EUR",
            vat_rate=0.19,
            language="de",
            dialling_code="49",
            trunk_prefix="0",
            mobile=PhonePlan(("151", "152", "157", "160", "162", "170", "171", "176"), 11, (3, 8)),
            landline=PhonePlan(("30", "40", "89", "221", "69"), 10, (2, 8)),
            cities=_cities(
                ("Berlin", "BERLIN|berlin", "10115-14199", "BER"),
                ("Hamburg", "HAMBURG", "20095-22769", "HAM"),
                ("München", "Munich|Muenchen|MÜNCHEN|Munchen", "80331-81929", "MUC"),
                ("Köln", "Cologne|Koeln|KÖLN|Koln", "50667-51149", "CGN"),
                ("Frankfurt am Main", "Frankfurt|Frankfurt a.M.|FRANKFURT", "60306-60599", "FRA"),
                ("Leipzig", "LEIPZIG", "04103-04357", "LEJ"),
                ("Stuttgart", "STUTTGART", "70173-70629", "STR"),
            ),
            street_format="{street} {n}",
            streets=_list(
                "Hauptstraße|Bahnhofstraße|Gartenweg|Schulstraße|Lindenallee|Berliner Straße|"
                "Goethestraße|Am Markt|Dorfstraße|Kirchgasse|Friedrichstraße|Rosenweg"
            ),
            street_abbreviations=(("straße", "str."), ("Straße", "Str."), ("Strasse", "Str.")),
            providers=_weights(
                _COMMON_PROVIDERS + " web.de:15 gmx.de:15 t-online.de:7 gmx.net:4 freenet.de:2"
            ),
            work_domains=_list(
                "nordlicht-consulting.de|bauwerk-gmbh.de|fahrzeugtechnik-sued.de|mediahaus.example"
            ),
            spellings=_list("Germany|Deutschland|DE|germany|GER|Deutschland "),
            salutations_male=_list("Herr|Hr.|Herr Dr."),
            salutations_female=_list("Frau|Fr.|Frau Dr."),
            stores_per_city=1,
        ),
        Country(
            code="FR",
            weight=0.12,
            currency="EUR",
            vat_rate=0.20,
            language="fr",
            dialling_code="33",
            trunk_prefix="0",
            mobile=PhonePlan(("6", "7"), 9, (1, 2, 2, 2, 2)),
            landline=PhonePlan(("1", "4", "5"), 9, (1, 2, 2, 2, 2)),
            cities=_cities(
                ("Paris", "PARIS|paris", "75001-75020", "PAR"),
                ("Lyon", "LYON", "69001-69009", "LYS"),
                ("Marseille", "Marseilles|MARSEILLE", "13001-13016", "MRS"),
                ("Toulouse", "TOULOUSE", "31000-31500", "TLS"),
                ("Nice", "NICE", "06000-06300", "NCE"),
                ("Bordeaux", "BORDEAUX", "33000-33800", "BOD"),
                ("Lille", "LILLE", "59000-59800", "LIL"),
            ),
            street_format="{n} {street}",
            streets=_list(
                "rue de la Paix|avenue Victor Hugo|boulevard Saint-Germain|rue du Moulin|"
                "place de la République|rue des Lilas|chemin des Vignes|rue Nationale|"
                "allée des Roses|impasse du Lac|rue Pasteur|avenue Jean Jaurès"
            ),
            street_abbreviations=(("avenue", "av."), ("boulevard", "bd"), ("place", "pl.")),
            providers=_weights(
                _COMMON_PROVIDERS + " orange.fr:12 free.fr:8 laposte.net:5 sfr.fr:4 wanadoo.fr:2"
            ),
            work_domains=_list(
                "lumiere-conseil.fr|atelier-boreal.fr|groupe-vauban.fr|mairie.example"
            ),
            spellings=_list("France|FR|FRA|france|République française"),
            salutations_male=_list("M.|Monsieur|M"),
            salutations_female=_list("Mme|Madame|Mlle|Mme."),
            stores_per_city=1,
        ),
        Country(
            code="ES",
            weight=0.09,
            currency="EUR",
            vat_rate=0.21,
            language="es",
            dialling_code="34",
            trunk_prefix="",
            mobile=PhonePlan(("6", "7"), 9, (3, 3, 3)),
            landline=PhonePlan(("91", "93", "96", "95"), 9, (3, 3, 3)),
            cities=_cities(
                ("Madrid", "MADRID|madrid", "28001-28055", "MAD"),
                ("Barcelona", "BARCELONA|Barna|BCN", "08001-08042", "BCN"),
                ("Valencia", "València|VALENCIA", "46001-46026", "VLC"),
                ("Sevilla", "Seville|SEVILLA", "41001-41020", "SVQ"),
                ("Málaga", "Malaga|MÁLAGA", "29001-29018", "AGP"),
                ("Bilbao", "Bilbo|BILBAO", "48001-48015", "BIO"),
            ),
            street_format="{street}, {n}",
            streets=_list(
                "Calle Mayor|Avenida de la Constitución|Calle Real|Plaza de España|Calle del Sol|"
                "Paseo de Gracia|Calle de Alcalá|Gran Vía|Calle Nueva|Avenida del Mar"
            ),
            street_abbreviations=(("Calle ", "C/ "), ("Avenida", "Avda."), ("Plaza", "Pza.")),
            providers=_weights(_COMMON_PROVIDERS + " hotmail.es:10 yahoo.es:5 telefonica.net:3"),
            work_domains=_list("iberia-foods.es|construcciones-levante.es|grupoaurora.example"),
            spellings=_list("Spain|España|ES|Espana|spain|ESPAÑA"),
            salutations_male=_list("Sr.|Sr|D."),
            salutations_female=_list("Sra.|Sra|Dña."),
            stores_per_city=1,
        ),
        Country(
            code="PL",
            weight=0.09,
            currency="PLN",
            vat_rate=0.23,
            language="pl",
            dialling_code="48",
            trunk_prefix="",
            mobile=PhonePlan(("50", "51", "53", "60", "66", "69", "72", "79", "88"), 9, (3, 3, 3)),
            landline=PhonePlan(("22", "12", "42", "71", "61"), 9, (2, 3, 2, 2)),
            cities=_cities(
                ("Warszawa", "Warsaw|WARSZAWA|Warszawa ", "00001-04999", "WAW"),
                ("Kraków", "Krakow|Cracow|KRAKÓW", "30001-31999", "KRK"),
                ("Łódź", "Lodz|ŁÓDŹ|Łodz", "90001-94999", "LCJ"),
                ("Wrocław", "Wroclaw|Breslau|WROCŁAW", "50001-54999", "WRO"),
                ("Poznań", "Poznan|POZNAŃ", "60001-61999", "POZ"),
                ("Gdańsk", "Gdansk|Danzig|GDAŃSK", "80001-80999", "GDN"),
            ),
            street_format="ul. {street} {n}",
            streets=_list(
                "Długa|Krótka|Polna|Leśna|Słoneczna|Mickiewicza|Kościuszki|Piłsudskiego|"
                "Ogrodowa|Lipowa|Żeromskiego|Świętokrzyska"
            ),
            street_abbreviations=(("ul. ", "ulica "), ("ul. ", "")),
            providers=_weights(_COMMON_PROVIDERS + " wp.pl:15 onet.pl:10 o2.pl:8 interia.pl:6"),
            work_domains=_list("polbud.com.pl|softwarehouse-krakow.pl|logistyka-wisla.pl"),
            spellings=_list("Poland|Polska|PL|poland|POLSKA"),
            salutations_male=_list("Pan|P."),
            salutations_female=_list("Pani|P."),
            stores_per_city=1,
        ),
        Country(
            code="NO",
            weight=0.05,
            currency="NOK",
            vat_rate=0.25,
            language="nb",
            dialling_code="47",
            trunk_prefix="",
            mobile=PhonePlan(("4", "9"), 8, (3, 2, 3)),
            landline=PhonePlan(("2", "5", "7"), 8, (2, 2, 2, 2)),
            cities=_cities(
                ("Oslo", "OSLO|oslo", "0150-1295", "OSL"),
                ("Bergen", "BERGEN", "5003-5099", "BGO"),
                ("Trondheim", "Trondhjem|TRONDHEIM", "7010-7099", "TRD"),
                ("Stavanger", "STAVANGER", "4005-4099", "SVG"),
                ("Tromsø", "Tromso|Tromsoe|TROMSØ", "9006-9020", "TOS"),
            ),
            street_format="{street} {n}",
            streets=_list(
                "Storgata|Kirkeveien|Skolegata|Strandveien|Parkveien|Åsveien|Sjøgata|"
                "Fjellveien|Bakkegata|Bjørnstjerne Bjørnsons gate|Løkkeveien"
            ),
            street_abbreviations=(("gata", "gt."), ("veien", "vn."), ("gate", "gt.")),
            providers=_weights(_COMMON_PROVIDERS + " online.no:8 hotmail.no:6 live.no:3"),
            work_domains=_list("hansen-bygg.no|nordkapp-shipping.no|fjordtech.example"),
            spellings=_list("Norway|Norge|NO|norway|NORGE"),
            salutations_male=_list("Hr.|Herr"),
            salutations_female=_list("Fru|Fr."),
            stores_per_city=1,
        ),
        Country(
            code="DK",
            weight=0.05,
            currency="DKK",
            vat_rate=0.25,
            language="da",
            dialling_code="45",
            trunk_prefix="",
            mobile=PhonePlan(("2", "3", "4", "5", "6"), 8, (2, 2, 2, 2)),
            landline=PhonePlan(("3", "4", "8", "9"), 8, (2, 2, 2, 2)),
            cities=_cities(
                ("København", "Copenhagen|Kobenhavn|København K|KØBENHAVN", "1050-2450", "CPH"),
                ("Aarhus", "Århus|AARHUS", "8000-8270", "AAR"),
                ("Odense", "ODENSE", "5000-5270", "ODE"),
                ("Aalborg", "Ålborg|AALBORG", "9000-9220", "AAL"),
                ("Esbjerg", "ESBJERG", "6700-6715", "EBJ"),
            ),
            street_format="{street} {n}",
            streets=_list(
                "Østergade|Vestergade|Nørregade|Søndergade|Algade|Kirkevej|Skolevej|"
                "Strandvejen|Parkvej|Møllevej|Åboulevarden"
            ),
            street_abbreviations=(("vej", "v."), ("gade", "g.")),
            providers=_weights(_COMMON_PROVIDERS + " live.dk:8 jubii.dk:3 mail.dk:3 hotmail.dk:4"),
            work_domains=_list("kobenhavn-design.dk|vestjysk-energi.dk|nordisk-revision.example"),
            spellings=_list("Denmark|Danmark|DK|denmark|DANMARK"),
            salutations_male=_list("Hr.|Herr"),
            salutations_female=_list("Fru|Fr."),
            stores_per_city=1,
        ),
        Country(
            code="GR",
            weight=0.06,
            currency="EUR",
            vat_rate=0.24,
            language="el",
            dialling_code="30",
            trunk_prefix="",
            mobile=PhonePlan(("690", "693", "694", "695", "697", "698", "699"), 10, (3, 3, 4)),
            landline=PhonePlan(("210", "2310", "2610"), 10, (3, 3, 4)),
            cities=_cities(
                ("Αθήνα", "Athens|Athina|ATHENS|Athína", "10431-11855", "ATH"),
                ("Θεσσαλονίκη", "Thessaloniki|Salonica|THESSALONIKI", "54621-56430", "SKG"),
                ("Πάτρα", "Patra|Patras", "26221-26500", "GPA"),
                ("Ηράκλειο", "Heraklion|Iraklio", "71201-71500", "HER"),
            ),
            street_format="{street} {n}",
            streets=_list(
                "Ερμού|Πανεπιστημίου|Σταδίου|Αθηνάς|Βασιλίσσης Σοφίας|Ακαδημίας|Τσιμισκή|"
                "Εγνατία|Αγίου Δημητρίου|Κολοκοτρώνη"
            ),
            street_abbreviations=(("Βασιλίσσης", "Βασ."), ("Αγίου", "Αγ.")),
            providers=_weights(_COMMON_PROVIDERS + " yahoo.gr:10 otenet.gr:6 hotmail.gr:4"),
            work_domains=_list("aegean-shipping.gr|olympus-foods.gr|hellas-tech.example"),
            spellings=_list("Greece|Ελλάδα|GR|Hellas|greece|ΕΛΛΑΔΑ"),
            salutations_male=_list("κ.|Κος|Mr"),
            salutations_female=_list("κα|Κα|Ms"),
            stores_per_city=1,
        ),
    )
}

COUNTRY_CODES: tuple[str, ...] = tuple(COUNTRIES)

# Exchange rates from EUR used to price the catalogue in each currency.
FX_FROM_EUR: dict[str, float] = {
    "EUR": 1.0,
    "GBP": 0.86,
    "USD": 1.08,
    "PLN": 4.30,
    "NOK": 11.50,
    "DKK": 7.46,
}
CURRENCIES: tuple[str, ...] = tuple(FX_FROM_EUR)

PLACEHOLDER_EMAILS: tuple[str, ...] = (
    "test@test.com",
    "noemail@example.com",
    "none@none.com",
    "no@email.com",
    "N/A",
    "unknown",
    "na@na.com",
)
PLACEHOLDER_PHONES: tuple[str, ...] = (
    "0000000000",
    "123456789",
    "1234567890",
    "9999999999",
    "N/A",
    "unknown",
    "00000",
)

SHOP_DOMAIN = "www.lumenandoak.example"


def store_ids(country: Country) -> list[tuple[str, City]]:
    """The stores of a country with their city, e.g. ("GB-LON-01", London)."""
    out = []
    for city in country.cities:
        for k in range(country.stores_per_city if city is country.cities[0] else 1):
            out.append((f"{country.code}-{city.store_code}-{k + 1:02d}", city))
    return out
