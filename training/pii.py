"""Templated sentences with personal data, labelled by character spans.

Entity types: PERSON, EMAIL, PHONE, SSN, CREDIT_CARD (Luhn-valid numbers of the major
schemes), IBAN (valid ISO 13616 check digits). Sentences without any PII, and sentences
with numbers that are not PII (orders, prices, dates, tracking codes), are mixed in so the
model does not tag every digit.

Templates and first names are split: the held-out set uses templates and first names the
training set never saw.
"""

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

TITLE_PREFIX = ["", "", "", "", "mr. ", "ms. ", "dr. ", "mrs. ", "prof. "]


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


TEMPLATES = [
    "My name is {PERSON} and my email is {EMAIL}.",
    "Please contact {PERSON} at {PHONE}.",
    "You can reach me at {EMAIL} or call {PHONE}.",
    "{PERSON}'s social security number is {SSN}.",
    "Charge it to my card {CREDIT_CARD}, expiry 09/27.",
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
    "Book a table for {PERSON}, phone {PHONE}, for 7 pm.",
    "{PERSON} <{EMAIL}> wrote: see you at the meeting.",
    "Use card {CREDIT_CARD} for the subscription renewal.",
    "The tenant {PERSON} listed {SSN} on the rental application.",
    "Reply to {EMAIL} with the signed contract.",
    "Call me back at {PHONE} when you get this.",
    "Dear {PERSON}, your account ending in 4821 has been updated.",
    "Our IBAN is {IBAN} (bank: Sparkasse), reference invoice 2024-118.",
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
    "Translate this to French: {PERSON} lives in Boston and her number is {PHONE}.",
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
    "Tell {PERSON} that the meeting moved to 3 pm.",
    "Our records show SSN {SSN} for the applicant {PERSON}.",
]

NO_PII = [
    "What is the capital of Australia?",
    "Order #55821 shipped on 2024-03-14 and costs $129.99.",
    "Explain the difference between TCP and UDP.",
    "The meeting is at 10:30 in room 4B, building 2.",
    "Tracking number 1Z999AA10123456784 shows the parcel in transit.",
    "Write a haiku about autumn leaves.",
    "Version 3.12.1 fixed the bug reported in issue 4471.",
    "Multiply 4532 by 1234 and show the steps.",
    "The population of the city grew from 1,204,332 to 1,310,876.",
    "Set the timeout to 3000 ms and retry 5 times.",
    "Our support line is open Monday to Friday, 9 to 5.",
    "Invoice 2024-0091 totals 1,250.00 EUR, due in 30 days.",
    "How many calories are in a banana?",
    "Summarize the plot of Pride and Prejudice.",
    "The Apollo 11 mission landed on July 20, 1969.",
    "Convert 72 degrees Fahrenheit to Celsius.",
    "Please review pull request 9821 before the release.",
    "What does HTTP status code 404 mean?",
    "The recipe needs 250 g flour, 2 eggs and 100 ml milk.",
    "Reset the router by holding the button for 10 seconds.",
    "Send the report to the finance team by Thursday.",
    "Can you recommend a good book about the history of Rome?",
    "The product SKU is AB-2231-XL, size large.",
    "Calculate the compound interest on 10000 at 5 percent for 3 years.",
    "Our office is at 221 Baker Street, second floor.",
    "The serial number 4000-1234-5678 is printed under the device.",
    "Flight UA 918 departs at 14:05 from gate 22.",
    "Email marketing campaigns have an average open rate of 21 percent.",
    "The phone battery lasts about 18 hours.",
    "Ask the customer to confirm their shipping address.",
]


WRAPS = [("<", ">"), ("(", ")"), ("[", "]"), ('"', '"'), ("'", "'"), ("*", "*"), ("`", "`")]

# Codes, years and times that are not personal data, put in front of sentences now and then.
NOISE = ["Ref 2024-0091:", "Ticket #48213:", "At 7 pm:", "Born 1985.", "BIC DEUTDEFF.", "SKU AB-2231:",
         "Order 55821 -", "Room 4B:", "v3.12.1:", "Case 7741/2023:"]


def split(items, rng, held_fraction):
    items = list(items)
    rng.shuffle(items)
    cut = max(1, int(len(items) * held_fraction))
    return items[cut:], items[:cut]


def fill(template, rng, firsts):
    text = ""
    entities = []
    rest = template
    while "{" in rest:
        before, _, after = rest.partition("{")
        kind, _, rest = after.partition("}")
        text += before
        value = {
            "PERSON": lambda: person(rng, firsts),
            "EMAIL": lambda: email(rng, firsts),
            "PHONE": lambda: phone(rng),
            "SSN": lambda: ssn(rng),
            "CREDIT_CARD": lambda: card(rng),
            "IBAN": lambda: iban(rng),
        }[kind]()
        # Entities sit inside brackets, quotes or markup as often as in plain prose.
        left, right = rng.choice(WRAPS) if rng.random() < 0.15 else ("", "")
        text += left
        entities.append({"start": len(text), "end": len(text) + len(value), "label": kind})
        text += value + right
    text += rest
    if rng.random() < 0.15:
        text = text.lower()
    return {"text": text, "entities": entities}


def generate(seed, train_size, heldout_size):
    rng = random.Random(seed)
    train_templates, held_templates = split(TEMPLATES, rng, 0.2)
    train_first, held_first = split(FIRST, rng, 0.2)
    train_clean, held_clean = split(NO_PII, rng, 0.2)

    def make(count, templates, firsts, clean):
        rows = []
        for _ in range(count):
            if rng.random() < 0.12:
                rows.append({"text": rng.choice(clean), "entities": []})
            else:
                row = fill(rng.choice(templates), rng, firsts)
                if rng.random() < 0.1:
                    prefix = rng.choice(NOISE) + " "
                    row = {"text": prefix + row["text"], "entities": [
                        {**e, "start": e["start"] + len(prefix), "end": e["end"] + len(prefix)}
                        for e in row["entities"]]}
                rows.append(row)
        return rows

    return (make(train_size, train_templates, train_first, train_clean),
            make(heldout_size, held_templates, held_first, held_clean))
