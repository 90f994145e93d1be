"""Templated sentences with personal data, labelled by character spans.

The entity types are the 17 that vLLM Semantic Router's `pii_types_allowed` names (Presidio's
entity types), under routerc's names where it has a shorter one:

| label | Presidio's name | what is generated |
|---|---|---|
| PERSON | PERSON | first and last names, initials, double-barrelled names |
| EMAIL | EMAIL_ADDRESS | addresses at common and company domains |
| PHONE | PHONE_NUMBER | US and European formats |
| SSN | US_SSN | `AAA-GG-SSSS` with valid areas |
| CREDIT_CARD | CREDIT_CARD | Luhn-valid Visa, Mastercard, Amex, Discover numbers |
| IBAN | IBAN_CODE | valid ISO 13616 check digits, 8 countries |
| AGE | AGE | the number of an age ("34" in "34 years old", "a 34-year-old") |
| DATE_TIME | DATE_TIME | dates with a day and a month, card expiry dates (MM/YY), clock times, ISO timestamps (a bare year or weekday is not one) |
| DOMAIN_NAME | DOMAIN_NAME | host names (not the domain part of an e-mail address, not file names) |
| GPE | GPE | countries, cities, US states and their postal abbreviations |
| IP_ADDRESS | IP_ADDRESS | IPv4 and IPv6 (full and compressed) |
| NRP | NRP | nationalities, religious and political groups (not languages) |
| ORGANIZATION | ORGANIZATION | named companies, banks, hospitals, universities, agencies, and made-up ones whose kind shows in the name ("Riverbend Credit Union", "Harris LLC", "Bank of Ohio") |
| STREET_ADDRESS | STREET_ADDRESS | house number, street and unit (city, state and ZIP are their own entities) |
| TITLE | TITLE | honorifics before a name (Mr., Dr, Prof., ...) |
| US_DRIVER_LICENSE | US_DRIVER_LICENSE | state formats (CA, NY, FL, IL, TX, WA, PA) in a licence context |
| ZIP_CODE | ZIP_CODE | 5-digit and ZIP+4 codes |

Hard negatives are mixed in so the model does not tag every number or dotted word: fixed
sentences and templates filled with random prices, quantities, measurements, versions and
scores (order and invoice numbers, file names, ratios, durations, language names, generic
"doctor" / "professor", "I am" without a time).

Templates are grouped by the type they are written for; 20% of each group, of the first
names, of the cities, of the organisations (and the words made-up ones are built from), of
the street names and of the sentences without PII are kept for the held-out set only, so it measures generalisation to new phrasings and new names. Text is ASCII only
(entity offsets are character offsets).
"""

import ipaddress
import random

FIRST = """james mary robert patricia john jennifer michael linda david elizabeth william barbara
richard susan joseph jessica thomas sarah charles karen christopher lisa daniel nancy matthew
betty anthony sandra mark ashley donald kimberly steven emily paul donna andrew michelle joshua
carol kenneth amanda kevin melissa brian deborah george stephanie timothy rebecca ronald sharon
jason laura edward cynthia jeffrey kathleen ryan amy jacob angela gary shirley nicholas anna
eric brenda jonathan pamela stephen emma larry nicole justin helen scott samantha brandon
katherine benjamin christine samuel debra gregory rachel alexander carolyn frank janet patrick
maria raymond olivia jack heather dennis diane jerry julie tyler joyce aaron victoria jose
kelly adam ruth nathan lauren henry christina zachary joan douglas evelyn peter judith kyle
megan noah andrea ethan cheryl jeremy hannah walter jacqueline christian martha keith gloria
roger teresa terry ann austin sara sean madison gerald frances carl kathryn harold janice
dylan jean arthur abigail lawrence alice jordan judy jesse sophia bryan grace billy denise
bruce amber gabriel doris joe marilyn logan danielle albert beverly willie isabella alan
theresa juan diana wayne natalie elijah brittany randy charlotte roy marie vincent kayla
ralph alexis eugene lori russell priya wei mohammed fatima hiroshi yuki carlos lucia ahmed
aisha dmitri olga pierre amelie giovanni giulia sven ingrid raj ananya kwame amara""".split()

LAST = """smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez
gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson white harris
sanchez clark ramirez lewis robinson walker young allen king wright scott torres nguyen hill
flores green adams nelson baker hall rivera campbell mitchell carter roberts gomez phillips
evans turner diaz parker cruz edwards collins reyes stewart morris morales murphy cook rogers
gutierrez ortiz morgan cooper peterson bailey reed kelly howard ramos kim cox ward richardson
watson brooks chavez wood james bennett gray mendoza ruiz hughes price alvarez castillo
sanders patel myers long ross foster jimenez powell jenkins perry russell sullivan bell
coleman butler henderson barnes gonzales fisher vasquez simmons romero jordan patterson
alexander hamilton graham reynolds griffin wallace west cole hayes bryant herrera gibson
ellis tran medina aguilar stevens murray ford castro marshall owens harrison fernandez
mcdonald woods washington kennedy wells vargas henry chen freeman webb tucker guzman burns
crawford olson simpson porter hunter gordon mendez silva shaw snyder mason dixon munoz
hunt hicks holmes palmer wagner black robertson boyd rose stone salazar fox warren mills
meyer rice schmidt garza daniels ferguson nichols stephens soto weaver ryan gardner payne
grant dunn kelley spencer hawkins arnold pierce hansen peters santos hart bradley knight
muller schneider fischer weber dubois moreau rossi russo sato tanaka suzuki wang zhang
singh sharma okafor mensah ivanov petrova larsen johansson""".split()

DOMAINS = """gmail.com yahoo.com outlook.com hotmail.com example.com example.org acme.io
company.com corp.net mail.de proton.me icloud.com university.edu hospital.org bank.co.uk
startup.ai shop.example""".split()



def luhn_complete(digits):
    """Appends the Luhn check digit to a list of digits."""
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d = d * 2
            if d > 9:
                d -= 9
        total += d
    return digits + [(10 - total % 10) % 10]


def card(rng):
    scheme = rng.choice(["visa", "visa", "mastercard", "mastercard", "amex", "discover"])
    if scheme == "visa":
        body = [4] + [rng.randrange(10) for _ in range(14)]
    elif scheme == "mastercard":
        body = [5, rng.randint(1, 5)] + [rng.randrange(10) for _ in range(13)]
    elif scheme == "discover":
        body = [6, 0, 1, 1] + [rng.randrange(10) for _ in range(11)]
    else:
        body = [3, rng.choice([4, 7])] + [rng.randrange(10) for _ in range(12)]
    digits = "".join(map(str, luhn_complete(body)))
    sep = rng.choice([" ", "-", "", " "])
    if len(digits) == 15:
        groups = [digits[:4], digits[4:10], digits[10:]]
    else:
        groups = [digits[i:i + 4] for i in range(0, 16, 4)]
    return sep.join(groups)


IBAN_FORMATS = {  # country: (length of BBAN, digits only?)
    "DE": 18, "GB": 18, "FR": 23, "ES": 20, "IT": 23, "NL": 14, "BE": 12, "CH": 17,
}


def iban(rng):
    country = rng.choice(list(IBAN_FORMATS))
    length = IBAN_FORMATS[country]
    if country == "GB":
        bban = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4)) + "".join(
            str(rng.randrange(10)) for _ in range(14))
    elif country == "NL":
        bban = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4)) + "".join(
            str(rng.randrange(10)) for _ in range(10))
    else:
        bban = "".join(str(rng.randrange(10)) for _ in range(length))
    rearranged = bban + country + "00"
    number = int("".join(str(int(c, 36)) for c in rearranged))
    check = 98 - number % 97
    compact = f"{country}{check:02d}{bban}"
    if rng.random() < 0.6:
        return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))
    return compact


def ssn(rng):
    area = rng.choice([n for n in range(1, 900) if n != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def phone(rng):
    a, b, c = rng.randint(201, 989), rng.randint(200, 999), rng.randint(0, 9999)
    style = rng.randrange(9)
    if style == 0:
        return f"({a}) {b}-{c:04d}"
    if style == 1:
        return f"{a}-{b}-{c:04d}"
    if style == 2:
        return f"+1 {a} {b} {c:04d}"
    if style == 3:
        return f"{a}.{b}.{c:04d}"
    if style == 4:
        return f"+1-{a}-{b}-{c:04d}"
    if style == 5:
        return f"+44 20 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"
    if style == 6:
        return f"+49 30 {rng.randint(100000, 9999999)}"
    if style == 7:
        return f"+33 {rng.randint(1, 9)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
    return f"{a} {b} {c:04d}"


def cap(word):
    return word[:1].upper() + word[1:]


def person(rng, firsts):
    first, last = rng.choice(firsts), rng.choice(LAST)
    style = rng.randrange(10)
    if style < 6:
        return f"{cap(first)} {cap(last)}"
    if style < 7:
        return f"{cap(first)} {cap(rng.choice('abcdefghjklmnprstw'))}. {cap(last)}"
    if style < 8:
        return cap(first)
    if style < 9:
        return f"{cap(first)} {cap(last)}-{cap(rng.choice(LAST))}"
    return f"{first} {last}"


def email(rng, firsts):
    first, last = rng.choice(firsts), rng.choice(LAST)
    style = rng.randrange(6)
    local = [f"{first}.{last}", f"{first[0]}{last}", f"{first}{rng.randint(1, 999)}",
             f"{first}_{last}", f"{last}.{first}", f"{first}"][style]
    return f"{local}@{rng.choice(DOMAINS)}"


def words(text):
    return text.split()


MONTHS = words("January February March April May June July August September October November December")

CITIES = [c.replace("_", " ") for c in words("""
New_York Los_Angeles Chicago Houston Phoenix Philadelphia San_Antonio San_Diego Dallas Austin
Seattle Denver Boston Detroit Nashville Portland Las_Vegas Baltimore Milwaukee Atlanta Miami
Oakland Minneapolis Cleveland Tampa Pittsburgh Cincinnati Orlando Sacramento Raleigh Omaha
Tulsa Honolulu Anchorage Boise Buffalo Richmond Madison Spokane Albuquerque Tucson Fresno
London Manchester Paris Lyon Berlin Munich Hamburg Madrid Barcelona Rome Milan Naples Vienna
Zurich Geneva Amsterdam Rotterdam Brussels Lisbon Porto Dublin Stockholm Oslo Copenhagen
Helsinki Warsaw Prague Budapest Athens Istanbul Moscow Kyiv Cairo Lagos Nairobi Johannesburg
Mumbai Delhi Bangalore Karachi Dhaka Beijing Shanghai Shenzhen Tokyo Osaka Seoul Manila Jakarta
Bangkok Hanoi Singapore Sydney Melbourne Auckland Toronto Vancouver Montreal Mexico_City
Guadalajara Bogota Lima Santiago Buenos_Aires Sao_Paulo Rio_de_Janeiro Havana Tehran Riyadh
Dubai Doha Tel_Aviv Casablanca Accra Addis_Ababa Kampala Edinburgh Glasgow Cardiff Marseille
""")]

COUNTRIES = [c.replace("_", " ") for c in words("""
United_States USA Canada Mexico Brazil Argentina Colombia Peru Chile Cuba United_Kingdom UK
England Scotland Ireland France Germany Spain Portugal Italy Switzerland Austria Netherlands
Belgium Sweden Norway Denmark Finland Poland Ukraine Russia Greece Turkey Egypt Nigeria Kenya
Ghana Ethiopia South_Africa Morocco India Pakistan Bangladesh China Japan South_Korea Vietnam
Thailand Philippines Indonesia Malaysia Australia New_Zealand Iran Iraq Israel Saudi_Arabia
Syria Afghanistan Lebanon Jordan Venezuela Haiti Somalia
""")]

STATES = [  # name, postal abbreviation
    ("Alabama", "AL"), ("Alaska", "AK"), ("Arizona", "AZ"), ("Arkansas", "AR"),
    ("California", "CA"), ("Colorado", "CO"), ("Connecticut", "CT"), ("Delaware", "DE"),
    ("Florida", "FL"), ("Georgia", "GA"), ("Hawaii", "HI"), ("Idaho", "ID"), ("Illinois", "IL"),
    ("Indiana", "IN"), ("Iowa", "IA"), ("Kansas", "KS"), ("Kentucky", "KY"), ("Louisiana", "LA"),
    ("Maine", "ME"), ("Maryland", "MD"), ("Massachusetts", "MA"), ("Michigan", "MI"),
    ("Minnesota", "MN"), ("Mississippi", "MS"), ("Missouri", "MO"), ("Montana", "MT"),
    ("Nebraska", "NE"), ("Nevada", "NV"), ("New Hampshire", "NH"), ("New Jersey", "NJ"),
    ("New Mexico", "NM"), ("New York", "NY"), ("North Carolina", "NC"), ("North Dakota", "ND"),
    ("Ohio", "OH"), ("Oklahoma", "OK"), ("Oregon", "OR"), ("Pennsylvania", "PA"),
    ("Rhode Island", "RI"), ("South Carolina", "SC"), ("South Dakota", "SD"), ("Tennessee", "TN"),
    ("Texas", "TX"), ("Utah", "UT"), ("Vermont", "VT"), ("Virginia", "VA"), ("Washington", "WA"),
    ("West Virginia", "WV"), ("Wisconsin", "WI"), ("Wyoming", "WY"),
]

ORGANIZATIONS = [o.replace("_", " ") for o in words("""
Google Microsoft Apple Amazon Meta Netflix IBM Oracle Intel Nvidia Salesforce Adobe Tesla
Boeing Airbus Siemens SAP Bosch Volkswagen Toyota Honda Samsung Sony Nestle Unilever
Walmart Target Costco Starbucks McDonalds Pfizer Moderna Novartis Roche Bayer
JPMorgan_Chase Goldman_Sachs Morgan_Stanley Wells_Fargo Bank_of_America Citibank HSBC Barclays
Deutsche_Bank BNP_Paribas Santander ING Sparkasse Credit_Suisse UBS American_Express PayPal
Mayo_Clinic Cleveland_Clinic Johns_Hopkins_Hospital Kaiser_Permanente Mount_Sinai
Stanford_University Harvard_University MIT Yale Oxford_University Cambridge_University
UCLA Columbia_University Princeton ETH_Zurich Red_Cross UNICEF World_Bank NATO FBI IRS
Acme_Corp Globex Initech Umbrella_Corporation Stark_Industries Wayne_Enterprises Hooli
Northwind_Traders Contoso Fabrikam Blue_Ridge_Logistics Pinecrest_Dental Lakeside_Insurance
Summit_Health Riverbend_Credit_Union Brightline_Energy Delta_Air_Lines United_Airlines FedEx
UPS DHL Verizon Comcast Vodafone Deloitte Accenture KPMG McKinsey
""")]

# Parts of made-up organisation names: most organisations a model meets are not famous, and
# their kind shows in the name ("... Credit Union", "Bank of ...", "... LLC").
ORG_WORDS = [w.replace("_", " ") for w in words("""
Riverbend Pinecrest Blue_Ridge Summit Lakeside Northwind Silver_Oak Redwood Evergreen Harbor
Granite Crescent Maple_Leaf Ironwood Clearwater Bright_Path Golden_Gate Stonebridge Westfield
Oakhurst Bluebird Keystone Pioneer Horizon Meridian Sterling Cobalt Beacon Cedar_Grove Falcon
Liberty Heritage Prairie Summitview Highland Coastal Frontier Apex Trinity Landmark
""")]

ORG_KINDS = [k.replace("_", " ") for k in words("""Credit_Union Dental Insurance Logistics Health
Energy Bank Capital Labs Software Pharmacy Motors Realty Foods Medical_Center Law_Group
Airlines Telecom Consulting Construction Academy Clinic Partners Holdings Analytics""")]

ORG_SUFFIXES = words("Inc. LLC Ltd Corp. Group GmbH Co.") + ["& Sons", "& Associates", "Enterprises", "Industries"]

NATIONALITIES = [n.replace("_", " ") for n in words("""
American British French German Italian Spanish Mexican Canadian Brazilian Chinese Japanese
Korean Indian Pakistani Nigerian Kenyan Egyptian Turkish Russian Ukrainian Polish Dutch
Swedish Norwegian Irish Australian Vietnamese Filipino Iranian Iraqi Syrian Israeli
Palestinian Greek Portuguese Argentinian Colombian Cuban Haitian Ethiopian Somali Afghan
African_American Hispanic Latino Asian_American Arab Kurdish
""")]

RELIGIONS = words("""Christian Catholic Protestant Muslim Jewish Hindu Buddhist Sikh Mormon
Atheist Evangelical Orthodox Shia Sunni Baptist Methodist Lutheran Quaker""")

PARTIES = [p.replace("_", " ") for p in words("""Democrat Republican Socialist Communist
Conservative Liberal Libertarian Labour Tory Green_Party Democratic_Party Republican_Party""")]

TITLES = words("Mr. Mr Mrs. Mrs Ms. Ms Miss Dr. Dr Prof. Professor Sir Rev. Capt.")

STREETS = [s.replace("_", " ") for s in words("""
Main Oak Maple Pine Cedar Elm Washington Lake Hill Park Sunset Baker Church Market Mill
Highland Jefferson Lincoln Madison Franklin Chestnut Walnut Spring Willow Ridge River Meadow
Forest Orchard Cherry Birch Harbor Bay Valley Prospect Union Grant Jackson Adams Center
Pennsylvania Amphitheatre Mission Broadway Fifth Second Third Ocean Cypress Magnolia
""")]

STREET_SUFFIXES = words("Street St. Avenue Ave Road Rd. Boulevard Blvd Lane Drive Dr. Court Way Place Parkway Terrace")

WEB_WORDS = words("""acme globex shop news travel bank pay cloud data health law learn photo
maps music store support secure login portal my best daily green blue rapid smart home""")

TLDS = words("com com com org net io co.uk de fr ai app dev info biz edu gov")


def age(rng):
    return str(rng.choice([rng.randint(1, 17), rng.randint(18, 65), rng.randint(18, 65), rng.randint(66, 99)]))


def date(rng, years=(1950, 2030)):
    y, m, d = rng.randint(*years), rng.randint(1, 12), rng.randint(1, 28)
    month = MONTHS[m - 1]
    style = rng.randrange(10)
    if style == 9:
        style = 2  # ISO dates twice as often: they look like SSNs and phone numbers
    if style == 0:
        return f"{month} {d}, {y}"
    if style == 1:
        return f"{d} {month} {y}"
    if style == 2:
        return f"{y}-{m:02d}-{d:02d}"
    if style == 3:
        return f"{m:02d}/{d:02d}/{y}"
    if style == 4:
        return f"{d:02d}.{m:02d}.{y}"
    if style == 5:
        return f"{month[:3]} {d}"
    if style == 6:
        suffix = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd"}.get(d, "th")
        return f"{month} {d}{suffix}"
    if style == 7:
        return f"{m}/{d}/{y % 100:02d}"
    return f"{month} {d} {y}"


def clock(rng):
    h, mm = rng.randint(1, 12), rng.choice([0, 0, 15, 30, 45, rng.randint(0, 59)])
    style = rng.randrange(5)
    if style == 0:
        return f"{h}:{mm:02d} {rng.choice(['am', 'pm', 'AM', 'PM'])}"
    if style == 1:
        return f"{h} {rng.choice(['am', 'pm', 'PM'])}"
    if style == 2:
        return f"{rng.randint(0, 23):02d}:{mm:02d}"
    if style == 3:
        return f"{h}:{mm:02d}{rng.choice(['am', 'pm'])}"
    return f"{h}pm"


def date_time(rng):
    style = rng.randrange(10)
    if style < 5:
        return date(rng)
    if style < 8:
        return clock(rng)
    if style < 9:
        y, m, d = rng.randint(2015, 2030), rng.randint(1, 12), rng.randint(1, 28)
        return f"{y}-{m:02d}-{d:02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"
    return f"{date(rng)} at {clock(rng)}"


def domain_name(rng):
    name = rng.choice(WEB_WORDS)
    if rng.random() < 0.5:
        name += rng.choice(["", "-"]) + rng.choice(WEB_WORDS)
    if rng.random() < 0.3:
        name += str(rng.randint(1, 99))
    prefix = rng.choice(["", "", "www.", "www.", "shop.", "mail.", "api.", "portal."])
    return prefix + name + "." + rng.choice(TLDS)


def ipv4(rng):
    style = rng.randrange(4)
    if style == 0:
        return f"192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    if style == 1:
        return f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    return ".".join(str(rng.randint(1, 254)) for _ in range(4))


def ipv6(rng):
    style = rng.randrange(4)
    if style == 0:
        value = (0x20010DB8 << 96) | rng.getrandbits(32)
    elif style == 1:
        value = (0xFE80 << 112) | rng.getrandbits(64)
    else:
        value = (rng.randint(0x2001, 0x2A0F) << 112) | rng.getrandbits(rng.choice([48, 64, 112]))
    address = ipaddress.IPv6Address(value)
    text = address.exploded if rng.random() < 0.2 else address.compressed
    return text.upper() if rng.random() < 0.15 else text


def street_address(rng, streets):
    number = rng.choice([rng.randint(1, 99), rng.randint(100, 999), rng.randint(1000, 9999)])
    street = f"{number} {rng.choice(streets)} {rng.choice(STREET_SUFFIXES)}"
    style = rng.randrange(8)
    if style == 0:
        street += f", Apt {rng.randint(1, 30)}{rng.choice('ABCD')}"
    elif style == 1:
        street += f" Suite {rng.randint(100, 900)}"
    elif style == 2:
        street += " " + rng.choice(["NW", "NE", "SW", "SE"])
    elif style == 3:
        street = f"{number} {rng.choice(['North', 'South', 'East', 'West', 'N.', 'S.'])} {rng.choice(streets)} {rng.choice(STREET_SUFFIXES)}"
    return street


def zip_code(rng):
    code = f"{rng.randint(501, 99950):05d}"
    return code + f"-{rng.randint(1, 9999):04d}" if rng.random() < 0.25 else code


def driver_license(rng):
    digits = lambda n: "".join(str(rng.randrange(10)) for _ in range(n))  # noqa: E731
    letter = lambda: rng.choice("ABCDEFGHJKLMNPRSTWY")  # noqa: E731
    style = rng.randrange(8)
    if style == 0:  # California
        return letter() + digits(7)
    if style == 1:  # New York
        d = digits(9)
        return d if rng.random() < 0.5 else f"{d[:3]} {d[3:6]} {d[6:]}"
    if style == 2:  # Florida
        d = digits(12)
        return f"{letter()}{d[:3]}-{d[3:6]}-{d[6:8]}-{d[8:11]}-{d[11]}"
    if style == 3:  # Illinois
        d = digits(11)
        return f"{letter()}{d[:3]}-{d[3:7]}-{d[7:]}"
    if style == 4:  # Texas
        return digits(8)
    if style == 5:  # Washington
        return "WDL" + "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(9))
    if style == 6:  # Pennsylvania
        d = digits(8)
        return f"{d[:2]} {d[2:5]} {d[5:]}"
    return letter() + digits(rng.choice([8, 12]))


def organization(rng, names):
    style = rng.randrange(8)
    if style < 4:
        return rng.choice(names["org"])
    if style == 4:
        return f"{rng.choice(names['org_word'])} {rng.choice(ORG_KINDS)}"
    if style == 5:
        return f"{last_name(rng)} {rng.choice(ORG_SUFFIXES)}"
    if style == 6:
        return f"{rng.choice(names['org_word'])} {rng.choice(ORG_SUFFIXES)}"
    place = rng.choice([rng.choice(names["city"]), rng.choice(STATES)[0]])
    return rng.choice([f"Bank of {place}", f"University of {place}", f"{place} General Hospital",
                       f"{place} Community College", f"{place} Department of Revenue",
                       f"City of {place} Water Department"])


def last_name(rng):
    return cap(rng.choice(LAST))


def title_person(rng, firsts):
    if rng.random() < 0.6:
        return last_name(rng)
    return f"{cap(rng.choice(firsts))} {last_name(rng)}"


# A slot's kind picks the generator; its label is the entity type the model learns.
KINDS = {
    "PERSON": "PERSON", "EMAIL": "EMAIL", "PHONE": "PHONE", "SSN": "SSN",
    "CREDIT_CARD": "CREDIT_CARD", "IBAN": "IBAN", "AGE": "AGE",
    "DATE_TIME": "DATE_TIME", "DATE": "DATE_TIME", "TIME": "DATE_TIME", "DOB": "DATE_TIME",
    "EXPIRY": "DATE_TIME",
    "DOMAIN_NAME": "DOMAIN_NAME",
    "GPE": "GPE", "CITY": "GPE", "COUNTRY": "GPE", "STATE": "GPE", "STATE_ABBR": "GPE",
    "IP_ADDRESS": "IP_ADDRESS", "IPV4": "IP_ADDRESS", "IPV6": "IP_ADDRESS",
    "NRP": "NRP", "NATIONALITY": "NRP", "RELIGION": "NRP", "PARTY": "NRP",
    "ORGANIZATION": "ORGANIZATION", "STREET_ADDRESS": "STREET_ADDRESS", "TITLE": "TITLE",
    "TITLED": "PERSON", "US_DRIVER_LICENSE": "US_DRIVER_LICENSE", "ZIP_CODE": "ZIP_CODE",
}

LABELS = ["PERSON", "EMAIL", "PHONE", "SSN", "CREDIT_CARD", "IBAN", "AGE", "DATE_TIME",
          "DOMAIN_NAME", "GPE", "IP_ADDRESS", "NRP", "ORGANIZATION", "STREET_ADDRESS", "TITLE",
          "US_DRIVER_LICENSE", "ZIP_CODE"]


def value(kind, rng, names):
    """A value for a slot; `names` holds the split name lists (first names, cities, ...)."""
    if kind == "PERSON":
        return person(rng, names["first"])
    if kind == "TITLED":
        return title_person(rng, names["first"])
    if kind == "EMAIL":
        return email(rng, names["first"])
    if kind == "PHONE":
        return phone(rng)
    if kind == "SSN":
        return ssn(rng)
    if kind == "CREDIT_CARD":
        return card(rng)
    if kind == "IBAN":
        return iban(rng)
    if kind == "AGE":
        return age(rng)
    if kind == "DATE_TIME":
        return date_time(rng)
    if kind == "DATE":
        return date(rng)
    if kind == "TIME":
        return clock(rng)
    if kind == "DOB":
        return date(rng, (1935, 2012))
    if kind == "DOMAIN_NAME":
        return domain_name(rng)
    if kind == "CITY":
        return rng.choice(names["city"])
    if kind == "COUNTRY":
        return rng.choice(COUNTRIES)
    if kind == "STATE":
        return rng.choice(STATES)[0]
    if kind == "STATE_ABBR":
        return rng.choice(STATES)[1]
    if kind == "GPE":
        return rng.choice([lambda: rng.choice(names["city"]), lambda: rng.choice(COUNTRIES),
                           lambda: rng.choice(STATES)[0]])()
    if kind == "IPV4":
        return ipv4(rng)
    if kind == "IPV6":
        return ipv6(rng)
    if kind == "IP_ADDRESS":
        return ipv4(rng) if rng.random() < 0.45 else ipv6(rng)
    if kind == "NATIONALITY":
        return rng.choice(NATIONALITIES)
    if kind == "RELIGION":
        return rng.choice(RELIGIONS)
    if kind == "PARTY":
        return rng.choice(PARTIES)
    if kind == "NRP":
        return rng.choice(rng.choice([NATIONALITIES, RELIGIONS, PARTIES]))
    if kind == "ORGANIZATION":
        return organization(rng, names)
    if kind == "EXPIRY":
        return f"{rng.randint(1, 12):02d}/{rng.randint(24, 35)}"
    if kind == "STREET_ADDRESS":
        return street_address(rng, names["street"])
    if kind == "TITLE":
        return rng.choice(TITLES)
    if kind == "US_DRIVER_LICENSE":
        return driver_license(rng)
    if kind == "ZIP_CODE":
        return zip_code(rng)
    raise KeyError(kind)

# Templates grouped by the type they are written for; each group is split between training and
# held-out sets on its own, so every type has templates the training set never saw.
TEMPLATES = {
    "classic": [
        "My name is {PERSON} and my email is {EMAIL}.",
        "Please contact {PERSON} at {PHONE}.",
        "You can reach me at {EMAIL} or call {PHONE}.",
        "{PERSON}'s social security number is {SSN}.",
        "Charge it to my card {CREDIT_CARD}, expiry {EXPIRY}.",
        "Wire the refund to IBAN {IBAN}, account holder {PERSON}.",
        "Hi, I'm {PERSON}. My SSN is {SSN} and my phone number is {PHONE}.",
        "Send the invoice to {EMAIL}; the card on file is {CREDIT_CARD}.",
        "Customer {PERSON} ({EMAIL}) called from {PHONE} about order 4471.",
        "Employee record: name {PERSON}, SSN {SSN}, email {EMAIL}.",
        "Can you update my phone to {PHONE}? Thanks, {PERSON}",
        "The patient, {PERSON}, can be reached on {PHONE}.",
        "Forward this to {EMAIL} before Friday.",
        "My credit card number is {CREDIT_CARD} and the CVV is 123.",
        "Please pay {PERSON} via bank transfer to {IBAN}.",
        "Is {SSN} a valid social security number?",
        "Book a table for {PERSON}, phone {PHONE}, for {TIME}.",
        "{PERSON} <{EMAIL}> wrote: see you at the meeting.",
        "Use card {CREDIT_CARD} for the subscription renewal.",
        "The tenant {PERSON} listed {SSN} on the rental application.",
        "Reply to {EMAIL} with the signed contract.",
        "Call me back at {PHONE} when you get this.",
        "Dear {PERSON}, your account ending in 4821 has been updated.",
        "Our IBAN is {IBAN} (bank: {ORGANIZATION}), reference invoice 2024-118.",
        "Hey {PERSON}, what's your email? Mine is {EMAIL}.",
        "Applicant: {PERSON}; SSN: {SSN}; phone: {PHONE}; email: {EMAIL}",
        "I paid with {CREDIT_CARD} but was charged twice.",
        "Please verify the identity of {PERSON} using SSN {SSN}.",
        "Add {PERSON} ({PHONE}) as an emergency contact.",
        "Transfer 500 euros from {IBAN} to {IBAN}.",
        "Summarize this email from {PERSON} ({EMAIL}) about the quarterly budget.",
        "{PERSON} and {PERSON} will join the call; dial {PHONE}.",
        "billing contact: {EMAIL} | card: {CREDIT_CARD}",
        "Write a polite reply to {PERSON} declining the offer.",
        "Translate this to French: {PERSON} lives in {CITY} and her number is {PHONE}.",
        "Store the following: name={PERSON}, ssn={SSN}, cc={CREDIT_CARD}",
        "I lost my card {CREDIT_CARD}, please block it immediately.",
        "Is it safe to share my IBAN {IBAN} with a landlord?",
        "Meeting notes taken by {PERSON}: follow up with {PERSON} next week.",
        "The new hire {PERSON} starts Monday; her work email is {EMAIL}.",
        "text {PERSON} at {PHONE} when the package arrives",
        "My wife {PERSON} has SSN {SSN}, please add her to the policy.",
        "Refund card {CREDIT_CARD} for order #88213.",
        "Who is {PERSON}? I got a message from {EMAIL}.",
        "Please send the payroll file for {PERSON}, IBAN {IBAN}, to {EMAIL}.",
        "Draft a cover letter for {PERSON}, phone {PHONE}, email {EMAIL}.",
        "The fraud team flagged card {CREDIT_CARD} and SSN {SSN}.",
        "Schedule a dentist appointment for {PERSON}.",
        "{PERSON} signed the lease on behalf of the company.",
        "Ping {EMAIL} and {EMAIL} about the outage.",
        "Contact: {PERSON}, {PHONE}",
        "Name: {PERSON}\nEmail: {EMAIL}\nPhone: {PHONE}",
        "SSN {SSN}",
        "card number: {CREDIT_CARD}",
        "IBAN: {IBAN}",
        "email me at {EMAIL}",
        "{PERSON} here, my number changed to {PHONE}.",
        "I am {PERSON}, born in 1985, SSN {SSN}.",
        "Please charge {CREDIT_CARD} and email the receipt to {EMAIL}.",
        "Account holder: {PERSON}, IBAN {IBAN}, BIC DEUTDEFF.",
        "Could {PERSON} send the slides to {EMAIL} by noon?",
        "The doctor, {PERSON}, asked me to call {PHONE} tomorrow.",
        "We received a complaint from {PERSON} regarding invoice 7731.",
        "Her social is {SSN} and her card is {CREDIT_CARD}.",
        "Direct deposit to {IBAN} for {PERSON} starting next month.",
        "Thanks {PERSON}! I'll write to {EMAIL} if anything changes.",
        "Emergency contact {PERSON} - {PHONE}",
        "Verify: {PERSON}, {SSN}, {EMAIL}, {PHONE}",
        "The cardholder {PERSON} disputes charges on {CREDIT_CARD}.",
        "Payment details: IBAN {IBAN}; reference {PERSON}.",
        "My colleague {PERSON} ({EMAIL}) will take over the project.",
        "Please remove {EMAIL} from the mailing list.",
        "is {PHONE} your mobile or office number, {PERSON}?",
        "Ask {PERSON} whether {SSN} belongs to her son.",
        "Lookup customer by phone {PHONE} or email {EMAIL}.",
        "{PERSON} wants a refund to card {CREDIT_CARD}.",
        "Please send 200 dollars to {PERSON} at IBAN {IBAN} today.",
        "New lead: {PERSON}, {EMAIL}, interested in the premium plan.",
        "Tell {PERSON} that the meeting moved to {TIME}.",
        "Our records show SSN {SSN} for the applicant {PERSON}.",
    ],
    "AGE": [
        "I am {AGE} years old and live in {CITY}.",
        "My son is {AGE} and has had a fever of 39 degrees for 2 days.",
        "The patient is a {AGE}-year-old {NATIONALITY} man with chest pain.",
        "{PERSON}, aged {AGE}, was admitted on {DATE}.",
        "Age: {AGE}",
        "She turned {AGE} last week and wants a party with 20 guests.",
        "Is {AGE} too old to start learning the piano?",
        "My grandmother is {AGE} years of age and takes 3 pills a day.",
        "How much should a {AGE} year old man weigh?",
        "We have two kids, {AGE} and {AGE}.",
        "I'm a {AGE} yo woman looking for a new job.",
        "{PERSON} ({AGE}) lives alone in {CITY}.",
        "what vaccines does a {AGE}-year-old need?",
        "My dad is {AGE}, diabetic, and lives in {STATE}.",
        "At {AGE} I finally got my first credit card.",
        "applicant age {AGE}, height 180 cm, weight 75 kg",
        "our daughter, who is {AGE}, needs a passport.",
        "I retired at {AGE} after 30 years at the same company.",
    ],
    "DATE_TIME": [
        "My date of birth is {DOB}.",
        "Order #55821 shipped on {DATE} and costs $129.99.",
        "The meeting is at {TIME} in room 4B, building 2.",
        "The Apollo 11 mission landed on {DATE}.",
        "Flight UA 918 departs at {TIME} from gate 22.",
        "Can we move the call to {DATE_TIME}?",
        "DOB: {DOB}",
        "I was born on {DOB} in {CITY}.",
        "The deadline is {DATE}, please submit 3 copies.",
        "Remind me at {TIME} to take 2 tablets.",
        "The incident happened on {DATE_TIME} near gate 14.",
        "{PERSON} was born {DOB}.",
        "Log entry {DATE_TIME}: user logged out after 45 minutes.",
        "My appointment is on {DATE} at {TIME}.",
        "Your subscription renews on {DATE} for $9.99.",
        "the party starts at {TIME}, bring 2 bottles",
        "Check-in {DATE}, check-out {DATE}, 2 adults.",
        "We last spoke on {DATE} about invoice 2024-0091.",
        "date: {DATE_TIME}",
        "Patient seen {DATE}; follow-up in 6 weeks.",
    ],
    "DOMAIN_NAME": [
        "Is {DOMAIN_NAME} a phishing site?",
        "Visit {DOMAIN_NAME} for the full terms.",
        "Block all traffic to {DOMAIN_NAME} on port 443.",
        "My blog is hosted at {DOMAIN_NAME}.",
        "Why does {DOMAIN_NAME} not resolve from our network?",
        "I bought the domain {DOMAIN_NAME} for 12 dollars.",
        "Add {DOMAIN_NAME} and {DOMAIN_NAME} to the allow list.",
        "The login page on {DOMAIN_NAME} asks for my card number.",
        "Our company website is {DOMAIN_NAME}.",
        "Set the DNS record for {DOMAIN_NAME} to a TTL of 300.",
        "I got a suspicious message linking to {DOMAIN_NAME}.",
        "redirect {DOMAIN_NAME} to the new store",
        "Can you summarize the privacy policy of {DOMAIN_NAME}?",
        "Renew the TLS certificate of {DOMAIN_NAME} before it expires.",
    ],
    "GPE": [
        "I'm flying from {CITY} to {CITY} next week.",
        "What is the capital of {COUNTRY}?",
        "I live in {CITY}, {STATE}.",
        "Best vegetarian restaurants in {CITY}?",
        "She was born in {COUNTRY} and moved to {CITY} at 12.",
        "Our office in {CITY} closes at {TIME}.",
        "How do I get a work visa for {COUNTRY}?",
        "We are relocating from {STATE} to {STATE} in 2 months.",
        "Is it cheaper to live in {CITY} or {CITY}?",
        "My parents still live in {CITY}, {COUNTRY}.",
        "Tax rules for remote workers living in {STATE}?",
        "The conference will be held in {CITY} this year.",
        "Can you recommend a book about the history of {COUNTRY}?",
        "I'm a resident of {STATE} and want to register to vote.",
        "Ship to {CITY}, {STATE_ABBR}.",
        "weather forecast for {CITY} tomorrow",
        "I was stopped at the border between {COUNTRY} and {COUNTRY}.",
    ],
    "IP_ADDRESS": [
        "Why is {IP_ADDRESS} blocked by the firewall?",
        "The server at {IPV4} stopped responding after the update.",
        "My home IP is {IP_ADDRESS}.",
        "We saw 300 failed logins from {IP_ADDRESS} in an hour.",
        "Add {IPV6} to the allow list.",
        "ping {IPV4} returns 100% packet loss",
        "Configure the gateway as {IPV4} and DNS as {IPV4}.",
        "Is {IPV6} a link-local address?",
        "The printer is at {IPV4} on port 9100.",
        "Ban {IP_ADDRESS} and {IP_ADDRESS} for 24 hours.",
        "Traceroute to {IP_ADDRESS} stops at hop 7.",
        "client_ip={IP_ADDRESS} status=403 bytes=512",
        "Our VPN assigns {IPV4} to my laptop.",
        "Who owns the address {IP_ADDRESS}?",
    ],
    "NRP": [
        "As a {NRP}, I want to know my rights at work.",
        "My neighbour is {NATIONALITY} and invited us to dinner.",
        "I'm a registered {PARTY} living in {STATE}.",
        "Is it legal to refuse to hire someone because they are {RELIGION}?",
        "{PERSON} is a {NATIONALITY} citizen with a green card.",
        "We are a {RELIGION} family looking for a school with 2 open spots.",
        "The candidate identifies as {NRP}.",
        "My {NATIONALITY} passport expires soon.",
        "He has voted {PARTY} in every election.",
        "As a {RELIGION} woman, can I wear a headscarf at work?",
        "The landlord refused to rent to us because we are {NATIONALITY}.",
        "My husband is {RELIGION} and I am {RELIGION}.",
        "Write a speech for the {PARTY} fundraiser.",
        "I am {NATIONALITY} and need a visa for 3 months.",
        "Our {NATIONALITY} colleague joins on Monday.",
        "Ethnicity: {NATIONALITY}; religion: {RELIGION}",
    ],
    "ORGANIZATION": [
        "I work at {ORGANIZATION} as a nurse.",
        "{PERSON} from {ORGANIZATION} called about the contract.",
        "Please draft a resignation letter to {ORGANIZATION}.",
        "My employer, {ORGANIZATION}, hasn't paid my overtime.",
        "Compare {ORGANIZATION} and {ORGANIZATION} on customer service.",
        "I have a checking account with {ORGANIZATION}.",
        "She graduated from {ORGANIZATION} with a degree in physics.",
        "I was treated at {ORGANIZATION} for 3 days.",
        "How do I dispute a charge with {ORGANIZATION}?",
        "We signed a 2-year contract with {ORGANIZATION}.",
        "Employer: {ORGANIZATION}",
        "I got a job offer from {ORGANIZATION}, should I accept?",
        "{ORGANIZATION} denied my insurance claim.",
        "Forward the complaint to the legal team at {ORGANIZATION}.",
    ],
    "STREET_ADDRESS": [
        "Ship it to {STREET_ADDRESS}, {CITY}, {STATE_ABBR} {ZIP_CODE}.",
        "I live at {STREET_ADDRESS} in {CITY}.",
        "My address is {STREET_ADDRESS}, {CITY} {ZIP_CODE}.",
        "Deliver to: {PERSON}\n{STREET_ADDRESS}\n{CITY}, {STATE_ABBR} {ZIP_CODE}",
        "We moved to {STREET_ADDRESS} last month.",
        "The package was left at {STREET_ADDRESS} instead of my door.",
        "Billing address: {STREET_ADDRESS}, {CITY}, {COUNTRY}",
        "Our office is at {STREET_ADDRESS}, second floor.",
        "Is parking available near {STREET_ADDRESS}?",
        "Please update my mailing address to {STREET_ADDRESS}.",
        "There is a water leak at {STREET_ADDRESS}, unit owner {PERSON}.",
        "address: {STREET_ADDRESS}",
        "Send the documents to {PERSON}, {STREET_ADDRESS}, {CITY}.",
        "How far is {STREET_ADDRESS} from the airport?",
    ],
    "TITLE": [
        "Please book an appointment with {TITLE} {TITLED}.",
        "Dear {TITLE} {TITLED},",
        "{TITLE} {TITLED} will see you at {TIME}.",
        "Write a letter to {TITLE} {TITLED} about the lease.",
        "My doctor, {TITLE} {TITLED}, prescribed 20 mg daily.",
        "Thank {TITLE} {TITLED} for the recommendation letter.",
        "Is {TITLE} {TITLED} accepting new patients?",
        "{TITLE} {TITLED} teaches the course on Tuesdays.",
        "Regards, {TITLE} {TITLED}",
        "Ask {TITLE} {TITLED} and {TITLE} {TITLED} to review the draft.",
        "The lecture by {TITLE} {TITLED} was moved to room 12.",
        "Attn: {TITLE} {TITLED}, accounts payable",
    ],
    "US_DRIVER_LICENSE": [
        "My driver's license number is {US_DRIVER_LICENSE}.",
        "DL# {US_DRIVER_LICENSE}, issued in {STATE}",
        "Driver license: {US_DRIVER_LICENSE}",
        "Can you check if license {US_DRIVER_LICENSE} is suspended?",
        "{PERSON}'s driving licence {US_DRIVER_LICENSE} has expired.",
        "Enter your DL number ({US_DRIVER_LICENSE}) to verify your age.",
        "The officer wrote down license no. {US_DRIVER_LICENSE} and plate 7ABC123.",
        "I renewed my driver license {US_DRIVER_LICENSE} online.",
        "state ID / driver's license: {US_DRIVER_LICENSE}",
        "Rental form: driver {PERSON}, licence {US_DRIVER_LICENSE}",
        "Is {US_DRIVER_LICENSE} a valid {STATE} driver's license format?",
        "I lost my license, the number was {US_DRIVER_LICENSE}.",
    ],
    "ZIP_CODE": [
        "What's the weather in {ZIP_CODE}?",
        "My ZIP code is {ZIP_CODE}.",
        "zip: {ZIP_CODE}",
        "I live in {CITY}, {STATE_ABBR} {ZIP_CODE}.",
        "Find pharmacies near {ZIP_CODE}.",
        "postal code {ZIP_CODE}, order 55821",
        "Is delivery available in zip {ZIP_CODE}?",
        "Our store in {ZIP_CODE} closes early on holidays.",
        "Enter ZIP {ZIP_CODE} to see local prices.",
        "Property taxes in the {ZIP_CODE} area went up 4 percent.",
        "{CITY} {STATE_ABBR} {ZIP_CODE}",
        "Is {ZIP_CODE} in {STATE}?",
    ],
    "mixed": [
        "Name: {PERSON}\nDOB: {DOB}\nAddress: {STREET_ADDRESS}, {CITY}, {STATE_ABBR} {ZIP_CODE}\nSSN: {SSN}",
        "Patient {PERSON}, {AGE}, {NRP}, admitted {DATE} to {ORGANIZATION}.",
        "{TITLE} {TITLED} ({EMAIL}) logged in from {IP_ADDRESS} on {DATE_TIME}.",
        "User {EMAIL} signed up at {DOMAIN_NAME} from {IPV4}.",
        "Employee: {PERSON}, {ORGANIZATION}, {CITY}, DL {US_DRIVER_LICENSE}",
        "I'm {PERSON}, {AGE}, from {CITY}; I work for {ORGANIZATION}.",
        "{PERSON} ({NATIONALITY}, born {DOB}) applied for a visa to {COUNTRY}.",
        "Contact {TITLE} {TITLED} at {PHONE} or {EMAIL}, {STREET_ADDRESS}, {CITY}.",
        "Account {EMAIL} was accessed from {IP_ADDRESS} in {COUNTRY} at {TIME}.",
        "The {ORGANIZATION} branch at {STREET_ADDRESS} opens at {TIME}.",
        "Renter: {PERSON}, age {AGE}, license {US_DRIVER_LICENSE}, ZIP {ZIP_CODE}",
        "{PERSON}, a {AGE}-year-old {RELIGION} from {CITY}, joined {ORGANIZATION} on {DATE}.",
        "Fraud alert: card {CREDIT_CARD} used at {DOMAIN_NAME} from {IPV4} on {DATE}.",
        "Please mail the refund to {TITLE} {TITLED}, {STREET_ADDRESS}, {CITY} {ZIP_CODE}.",
        "Customer {PERSON} (SSN {SSN}, DOB {DOB}) lives at {STREET_ADDRESS}.",
        "Traveller {PERSON}, {NATIONALITY}, passport issued {DATE}, flying to {CITY}.",
    ],
}

# How often each group is drawn, relative to one type's group.
GROUP_WEIGHTS = {"classic": 5.0, "mixed": 1.5, "DATE_TIME": 1.5, "IP_ADDRESS": 1.5,
                 "ORGANIZATION": 1.5, "AGE": 1.2}

NO_PII = [
    "Explain the difference between TCP and UDP.",
    "Tracking number 1Z999AA10123456784 shows the parcel in transit.",
    "Write a haiku about autumn leaves.",
    "Version 3.12.1 fixed the bug reported in issue 4471.",
    "Multiply 4532 by 1234 and show the steps.",
    "The population grew from 1,204,332 to 1,310,876 in ten years.",
    "Set the timeout to 3000 ms and retry 5 times.",
    "Our support line is open Monday to Friday.",
    "Invoice 2024-0091 totals 1,250.00 EUR, due in 30 days.",
    "How many calories are in a banana?",
    "Summarize the plot of Pride and Prejudice.",
    "Convert 72 degrees Fahrenheit to Celsius.",
    "Please review pull request 9821 before the release.",
    "What does HTTP status code 404 mean?",
    "The recipe needs 250 g flour, 2 eggs and 100 ml milk.",
    "Reset the router by holding the button for 10 seconds.",
    "Send the report to the finance team by Thursday.",
    "Can you recommend a good book about ancient history?",
    "The product SKU is AB-2231-XL, size large.",
    "Calculate the compound interest on 10000 at 5 percent for 3 years.",
    "The serial number 4000-1234-5678 is printed under the device.",
    "Email marketing campaigns have an average open rate of 21 percent.",
    "The phone battery lasts about 18 hours.",
    "Ask the customer to confirm their shipping address.",
    "Open config.yaml and change the port to 8080.",
    "Rename report.pdf to summary.pdf before uploading.",
    "Run main.py with Python 3.12 and print the output.",
    "I am learning Node.js and Vue.js this month.",
    "Upgrade the package from 1.2.3 to 1.2.4.",
    "Use std::collections::HashMap instead of a vector.",
    "Set the aspect ratio to 16:9 and the frame rate to 30.",
    "The rocket reached 12500 meters in 45 seconds.",
    "Preheat the oven to 180 degrees and bake for 25 minutes.",
    "The course has 12 modules and 40 exercises.",
    "Add 3/4 cup of sugar and 2 tablespoons of butter.",
    "The team won the match 3-1 after extra time.",
    "Part number B7731245 ships in two weeks.",
    "Translate 'good morning' into Spanish.",
    "How do I say thank you in Japanese?",
    "Is a 30-minute walk better than a 10-minute run?",
    "Give me a list of 5 healthy breakfast ideas.",
    "The doctor said to drink more water.",
    "Ask your professor for an extension on the essay.",
    "Level 42 of the game is very hard.",
    "Page 118 of the manual explains the error codes.",
    "Routers with firmware 2.0.14 need a reboot.",
    "The stadium holds 80000 people.",
    "Error 0x80070005 appears when I install the update.",
    "Scale the image to 1920x1080 pixels.",
    "Sort the list [3, 1, 2] in descending order.",
    "Why is the sky blue?",
    "Write a Python function that reverses a string.",
    "Split the bill of 84.50 between 4 people.",
    "Rate this essay from 1 to 10.",
    "The file index.html loads style.css and app.js.",
    "A dozen is 12 and a gross is 144.",
]

# Sentences without PII whose numbers, dotted words and capitalised words vary: prices,
# quantities, measurements, versions, scores. Slots here are never entities.
NO_PII_TEMPLATES = [
    "Split the bill of {PRICE} between {N} people.",
    "The box is {N3} cm tall and weighs {N} kg.",
    "Take {N} pills {N} times a day for {N} days.",
    "Height {N3} cm, weight {N} kg, shoe size {N}.",
    "I am {N} minutes away, start without me.",
    "I am on chapter {N} of the book.",
    "I am happy with the {N}-page report.",
    "The package costs {PRICE} plus {PRICE} shipping.",
    "Upgrade from version {VERSION} to {VERSION} before the release.",
    "The score was {N}-{N} at half time.",
    "Our team grew from {N} to {N3} engineers.",
    "Add {N} cups of flour and {N} eggs.",
    "The latency dropped from {DECIMAL} ms to {DECIMAL} ms.",
    "Multiply {N4} by {N4} and show the steps.",
    "Order #{N5} contains {N} items and weighs {DECIMAL} kg.",
    "Invoice {N4}-{N4} totals {PRICE}, due in {N} days.",
    "Ticket {N5} was closed after {N} replies.",
    "The train leaves from platform {N} and takes {N} hours.",
    "Set the font size to {N} and the line height to {DECIMAL}.",
    "Scale the chart to {N4}x{N3} pixels.",
    "The stock rose {DECIMAL} percent to {PRICE}.",
    "Run the job with {N} workers and a batch size of {N3}.",
    "Room {N3} on floor {N} is free for {N} hours.",
    "Read pages {N3} to {N3} for the exam.",
    "The recipe serves {N} and takes {N} minutes.",
    "Buy {N} tickets at {PRICE} each.",
    "Load config.yaml and set retries to {N}.",
    "The file report_{N4}.pdf is {DECIMAL} MB.",
    "Python {VERSION} removed the deprecated module.",
    "The model has {N3} million parameters and {N} layers.",
]

WRAPS = [("<", ">"), ("(", ")"), ("[", "]"), ('"', '"'), ("'", "'"), ("*", "*"), ("`", "`")]

# Codes and years that are not personal data, put in front of sentences now and then.
NOISE = ["Ref 2024-0091:", "Ticket #48213:", "Born 1985.", "BIC DEUTDEFF.", "SKU AB-2231:",
         "Order 55821 -", "Room 4B:", "v3.12.1:", "Case 7741/2023:", "Build 1.4.22:", "Step 3 of 12:"]


def fill_clean(template, rng):
    """A sentence without entities from a NO_PII_TEMPLATES line."""
    slots = {
        "N": lambda: str(rng.randint(2, 60)),
        "N3": lambda: str(rng.randint(100, 999)),
        "N4": lambda: str(rng.randint(1000, 9999)),
        "N5": lambda: str(rng.randint(10000, 99999)),
        "PRICE": lambda: rng.choice(["$", "", "EUR "]) + f"{rng.randint(1, 999)}.{rng.randint(0, 99):02d}",
        "DECIMAL": lambda: f"{rng.randint(0, 99)}.{rng.randint(0, 9)}",
        "VERSION": lambda: f"{rng.randint(0, 12)}.{rng.randint(0, 20)}.{rng.randint(0, 30)}"
        if rng.random() < 0.6 else f"{rng.randint(2, 3)}.{rng.randint(0, 13)}",
    }
    text = ""
    rest = template
    while "{" in rest:
        before, _, after = rest.partition("{")
        slot, _, rest = after.partition("}")
        text += before + slots[slot]()
    return {"text": text + rest, "entities": []}


def split(items, rng, held_fraction):
    items = list(items)
    rng.shuffle(items)
    cut = max(1, int(len(items) * held_fraction))
    return items[cut:], items[:cut]


def fill(template, rng, names):
    text = ""
    entities = []
    rest = template
    while "{" in rest:
        before, _, after = rest.partition("{")
        kind, _, rest = after.partition("}")
        text += before
        found = value(kind, rng, names)
        # Entities sit inside brackets, quotes or markup as often as in plain prose (not a
        # title, which belongs next to its name).
        wrap = kind not in ("TITLE", "TITLED") and rng.random() < 0.15
        left, right = rng.choice(WRAPS) if wrap else ("", "")
        text += left
        entities.append({"start": len(text), "end": len(text) + len(found), "label": KINDS[kind]})
        text += found + right
    text += rest
    if rng.random() < 0.15:
        text = text.lower()
    return {"text": text, "entities": entities}


def generate(seed, train_size, heldout_size):
    rng = random.Random(seed)
    groups = sorted(TEMPLATES)
    train_templates, held_templates = {}, {}
    for group in groups:
        train_templates[group], held_templates[group] = split(TEMPLATES[group], rng, 0.2)
    train_names, held_names = {}, {}
    for key, items in [("first", FIRST), ("city", CITIES), ("org", ORGANIZATIONS), ("street", STREETS),
                       ("org_word", ORG_WORDS)]:
        train_names[key], held_names[key] = split(items, rng, 0.2)
    train_clean, held_clean = split(NO_PII, rng, 0.2)
    train_clean_t, held_clean_t = split(NO_PII_TEMPLATES, rng, 0.2)
    weights = [GROUP_WEIGHTS.get(g, 1.0) for g in groups]

    def make(count, templates, names, clean, clean_templates):
        rows = []
        for _ in range(count):
            draw = rng.random()
            if draw < 0.07:
                rows.append({"text": rng.choice(clean), "entities": []})
            elif draw < 0.15:
                rows.append(fill_clean(rng.choice(clean_templates), rng))
            else:
                group = rng.choices(groups, weights)[0]
                row = fill(rng.choice(templates[group]), rng, names)
                if rng.random() < 0.1:
                    prefix = rng.choice(NOISE) + " "
                    row = {"text": prefix + row["text"], "entities": [
                        {**e, "start": e["start"] + len(prefix), "end": e["end"] + len(prefix)}
                        for e in row["entities"]]}
                rows.append(row)
        return rows

    return (make(train_size, train_templates, train_names, train_clean, train_clean_t),
            make(heldout_size, held_templates, held_names, held_clean, held_clean_t))
