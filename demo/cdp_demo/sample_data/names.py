"""Given names, surnames and nicknames per country, and script conversions.

Surnames are (masculine, feminine) pairs so Polish and Greek households get the
right gendered form. Greek names are in Greek script; `transliterate_greek`
gives the Latin spelling most systems store.
"""

from __future__ import annotations

import unicodedata


def _split(names: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in names.split(","))


def _same(names: str) -> tuple[tuple[str, str], ...]:
    return tuple((n, n) for n in _split(names))


MALE: dict[str, tuple[str, ...]] = {
    "GB": _split(
        "James, John, Robert, Michael, William, David, Richard, Thomas, Christopher, Daniel, "
        "Matthew, Andrew, Joseph, Edward, Oliver, Harry, George, Samuel, Benjamin, Alexander, "
        "Charles, Peter, Jack, Henry, Stephen, Liam, Mohammed, Callum"
    ),
    "US": _split(
        "James, John, Robert, Michael, William, David, Richard, Joseph, Thomas, Charles, "
        "Christopher, Daniel, Matthew, Anthony, Mark, Steven, Joshua, Kevin, Brian, José, "
        "Carlos, Tyler, Ryan, Jacob, Ethan, DeShawn, Wei"
    ),
    "DE": _split(
        "Thomas, Michael, Andreas, Stefan, Christian, Markus, Alexander, Johannes, Sebastian, "
        "Tobias, Jürgen, Wolfgang, Klaus, Uwe, Lukas, Maximilian, Jonas, Felix, Matthias, "
        "Jörg, Dieter, Florian, Niklas, Bernd, Frank, Mehmet"
    ),
    "FR": _split(
        "Jean, Pierre, Michel, Philippe, Nicolas, François, Frédéric, Laurent, Julien, "
        "Sébastien, Antoine, Thomas, Mathieu, Olivier, Christophe, Hugo, Louis, Lucas, Théo, "
        "Guillaume, Jérôme, Stéphane, Benoît, Rémi, Alexandre, Karim"
    ),
    "ES": _split(
        "José, Antonio, Manuel, Francisco, Juan, David, Javier, Daniel, Carlos, Jesús, "
        "Alejandro, Miguel, Rafael, Pablo, Sergio, Fernando, Jorge, Luis, Alberto, Álvaro, "
        "Adrián, Diego, Raúl, Iván, Guillermo"
    ),
    "PL": _split(
        "Piotr, Krzysztof, Andrzej, Tomasz, Paweł, Michał, Marcin, Jakub, Łukasz, Adam, "
        "Marek, Grzegorz, Wojciech, Mateusz, Józef, Kamil, Jan, Maciej, Rafał, Szymon, Dawid, "
        "Bartłomiej, Przemysław, Zbigniew, Stanisław"
    ),
    "NO": _split(
        "Jan, Per, Bjørn, Ole, Lars, Kjell, Knut, Arne, Svein, Thomas, Hans, Geir, Tor, "
        "Morten, Terje, Espen, Håkon, Magnus, Jonas, Øyvind, Sindre, Henrik, Erlend, Eirik, "
        "Kristoffer"
    ),
    "DK": _split(
        "Peter, Jens, Lars, Michael, Henrik, Søren, Thomas, Jan, Niels, Anders, Rasmus, "
        "Morten, Jesper, Christian, Martin, Mads, Frederik, Mikkel, Kasper, Jørgen, Bent, "
        "Poul, Ole, Kristian, Emil"
    ),
    "GR": _split(
        "Γιώργος, Κωνσταντίνος, Δημήτρης, Ιωάννης, Νικόλαος, Παναγιώτης, Βασίλειος, Χρήστος, "
        "Αθανάσιος, Μιχάλης, Ευάγγελος, Σπύρος, Αντώνης, Αλέξανδρος, Θεόδωρος, Ανδρέας, "
        "Στέλιος, Πέτρος, Σταύρος, Ηλίας"
    ),
}

FEMALE: dict[str, tuple[str, ...]] = {
    "GB": _split(
        "Elizabeth, Margaret, Sarah, Emma, Olivia, Sophie, Charlotte, Jessica, Katherine, "
        "Rebecca, Hannah, Laura, Emily, Victoria, Amelia, Lucy, Rachel, Jennifer, Helen, "
        "Abigail, Chloe, Grace, Alice, Susan, Deborah, Aisha, Siobhan"
    ),
    "US": _split(
        "Mary, Patricia, Jennifer, Linda, Elizabeth, Barbara, Susan, Jessica, Sarah, Karen, "
        "Nancy, Lisa, Ashley, Kimberly, Emily, Michelle, Amanda, Melissa, Stephanie, Rebecca, "
        "María, Megan, Madison, Brittany, Samantha, Mei"
    ),
    "DE": _split(
        "Sabine, Claudia, Andrea, Stefanie, Katharina, Julia, Anna, Laura, Lena, Sarah, "
        "Ursula, Monika, Petra, Birgit, Jessica, Franziska, Susanne, Christina, Sophie, "
        "Marie, Jana, Ines, Gisela, Annika, Maren, Ayşe"
    ),
    "FR": _split(
        "Marie, Nathalie, Isabelle, Sylvie, Catherine, Françoise, Sophie, Camille, Léa, "
        "Manon, Chloé, Julie, Céline, Aurélie, Émilie, Hélène, Valérie, Sandrine, Claire, "
        "Anaïs, Élodie, Margaux, Inès, Juliette, Christine, Fatima"
    ),
    "ES": _split(
        "María, Carmen, Ana, Isabel, Laura, Cristina, Marta, Lucía, Pilar, Dolores, Paula, "
        "Elena, Sara, Raquel, Rosa, Beatriz, Julia, Nuria, Silvia, Irene, Patricia, Andrea, "
        "Alba, Inmaculada, Montserrat"
    ),
    "PL": _split(
        "Anna, Katarzyna, Małgorzata, Agnieszka, Barbara, Ewa, Krystyna, Magdalena, Joanna, "
        "Aleksandra, Zofia, Monika, Natalia, Karolina, Dorota, Beata, Justyna, Paulina, "
        "Iwona, Agata, Weronika, Elżbieta, Halina, Grażyna, Wiktoria"
    ),
    "NO": _split(
        "Anne, Inger, Kari, Marit, Ingrid, Liv, Eva, Berit, Astrid, Bjørg, Hilde, Anna, "
        "Solveig, Marianne, Randi, Ida, Nina, Maria, Elisabeth, Kristin, Sigrid, Ingeborg, "
        "Åse, Tone, Ragnhild"
    ),
    "DK": _split(
        "Anne, Kirsten, Mette, Hanne, Anna, Helle, Susanne, Lene, Maria, Marianne, Lone, "
        "Camilla, Pia, Louise, Charlotte, Tina, Gitte, Bente, Inge, Karen, Sofie, Freja, Ida, "
        "Astrid, Birthe"
    ),
    "GR": _split(
        "Μαρία, Ελένη, Αικατερίνη, Βασιλική, Σοφία, Αγγελική, Γεωργία, Δήμητρα, Κωνσταντίνα, "
        "Παρασκευή, Χριστίνα, Ευαγγελία, Ιωάννα, Αναστασία, Δέσποινα, Φωτεινή, Ειρήνη, Νίκη, "
        "Αθηνά, Ζωή"
    ),
}


SURNAMES: dict[str, tuple[tuple[str, str], ...]] = {
    "GB": _same(
        "Smith, Jones, Taylor, Brown, Williams, Wilson, Johnson, Davies, Robinson, Wright, "
        "Thompson, Evans, Walker, White, Roberts, Green, Hall, Wood, Jackson, Clarke, Patel, "
        "Hughes, Edwards, Turner, Harris, Martin, Cooper, Hill, Ward, Morris, O'Brien, "
        "Murphy, Campbell, Stewart, Khan, Lewis, Baker, Shaw, Price, Bennett, Fitzgerald, "
        "MacDonald"
    ),
    "US": _same(
        "Smith, Johnson, Williams, Brown, Jones, Garcia, Miller, Davis, Rodriguez, Martinez, "
        "Hernandez, Lopez, Gonzalez, Wilson, Anderson, Thomas, Taylor, Moore, Jackson, "
        "Martin, Lee, Perez, Thompson, White, Harris, Sanchez, Clark, Ramirez, Lewis, "
        "Robinson, Walker, Young, Allen, King, Wright, Scott, Nguyen, Hill, Flores, McDonald, "
        "Chen, O'Connor"
    ),
    "DE": _same(
        "Müller, Schmidt, Schneider, Fischer, Weber, Meyer, Wagner, Becker, Schulz, Hoffmann, "
        "Schäfer, Koch, Bauer, Richter, Klein, Wolf, Schröder, Neumann, Schwarz, Zimmermann, "
        "Braun, Krüger, Hofmann, Hartmann, Lange, Schmitt, Werner, Krause, Meier, Lehmann, "
        "Köhler, Weiß, Jäger, Groß, Yılmaz, Öztürk, von Berg"
    ),
    "FR": _same(
        "Martin, Bernard, Dubois, Thomas, Robert, Richard, Petit, Durand, Leroy, Moreau, "
        "Simon, Laurent, Lefèvre, Michel, Garcia, David, Bertrand, Roux, Vincent, Fournier, "
        "Morel, Girard, André, Lefebvre, Mercier, Dupont, Lambert, Bonnet, François, "
        "Martinez, Gauthier, Chevalier, Rousseau, Blanc, Guérin, Faure, Perrin, Boyer, "
        "Mathieu, Clément, Benali"
    ),
    "ES": _same(
        "García, Rodríguez, González, Fernández, López, Martínez, Sánchez, Pérez, Gómez, "
        "Martín, Jiménez, Ruiz, Hernández, Díaz, Moreno, Muñoz, Álvarez, Romero, Alonso, "
        "Gutiérrez, Navarro, Torres, Domínguez, Vázquez, Ramos, Gil, Ramírez, Serrano, "
        "Blanco, Molina, Castillo, Ortega, Rubio, Núñez, Iglesias"
    ),
    "PL": (
        ("Nowak", "Nowak"),
        ("Kowalski", "Kowalska"),
        ("Wiśniewski", "Wiśniewska"),
        ("Wójcik", "Wójcik"),
        ("Kowalczyk", "Kowalczyk"),
        ("Kamiński", "Kamińska"),
        ("Lewandowski", "Lewandowska"),
        ("Zieliński", "Zielińska"),
        ("Szymański", "Szymańska"),
        ("Woźniak", "Woźniak"),
        ("Dąbrowski", "Dąbrowska"),
        ("Kozłowski", "Kozłowska"),
        ("Jankowski", "Jankowska"),
        ("Mazur", "Mazur"),
        ("Kwiatkowski", "Kwiatkowska"),
        ("Krawczyk", "Krawczyk"),
        ("Piotrowski", "Piotrowska"),
        ("Grabowski", "Grabowska"),
        ("Pawłowski", "Pawłowska"),
        ("Michalski", "Michalska"),
        ("Król", "Król"),
        ("Wieczorek", "Wieczorek"),
        ("Jabłoński", "Jabłońska"),
        ("Wróbel", "Wróbel"),
        ("Majewski", "Majewska"),
        ("Olszewski", "Olszewska"),
        ("Stępień", "Stępień"),
        ("Jaworski", "Jaworska"),
        ("Malinowski", "Malinowska"),
        ("Górski", "Górska"),
        ("Żak", "Żak"),
        ("Sikora", "Sikora"),
        ("Łuczak", "Łuczak"),
        ("Zając", "Zając"),
    ),
    "NO": _same(
        "Hansen, Johansen, Olsen, Larsen, Andersen, Pedersen, Nilsen, Kristiansen, Jensen, "
        "Karlsen, Johnsen, Pettersen, Eriksen, Berg, Haugen, Hagen, Johannessen, Andreassen, "
        "Jacobsen, Dahl, Jørgensen, Halvorsen, Henriksen, Lund, Sørensen, Strand, Solberg, "
        "Bakken, Løken, Sæther, Røed, Aas, Kvåle, Nordli, Bråten"
    ),
    "DK": _same(
        "Nielsen, Jensen, Hansen, Pedersen, Andersen, Christensen, Larsen, Sørensen, "
        "Rasmussen, Jørgensen, Petersen, Madsen, Kristensen, Olsen, Thomsen, Christiansen, "
        "Poulsen, Johansen, Møller, Mortensen, Knudsen, Jakobsen, Mikkelsen, Frederiksen, "
        "Lauridsen, Østergaard, Kjær, Dahl, Holm, Bæk, Vestergaard, Søndergaard, Lund, "
        "Schmidt, Gregersen"
    ),
    "GR": (
        ("Παπαδόπουλος", "Παπαδοπούλου"),
        ("Παπαδάκης", "Παπαδάκη"),
        ("Γεωργίου", "Γεωργίου"),
        ("Οικονόμου", "Οικονόμου"),
        ("Νικολάου", "Νικολάου"),
        ("Παπαγεωργίου", "Παπαγεωργίου"),
        ("Βασιλείου", "Βασιλείου"),
        ("Ιωάννου", "Ιωάννου"),
        ("Κωνσταντίνου", "Κωνσταντίνου"),
        ("Δημητρίου", "Δημητρίου"),
        ("Παπανικολάου", "Παπανικολάου"),
        ("Μακρής", "Μακρή"),
        ("Αθανασίου", "Αθανασίου"),
        ("Καραγιάννης", "Καραγιάννη"),
        ("Αντωνίου", "Αντωνίου"),
        ("Παππάς", "Παππά"),
        ("Χριστοδούλου", "Χριστοδούλου"),
        ("Αλεξίου", "Αλεξίου"),
        ("Σταματόπουλος", "Σταματοπούλου"),
        ("Κωστόπουλος", "Κωστοπούλου"),
        ("Μαυρίδης", "Μαυρίδου"),
        ("Λαμπρόπουλος", "Λαμπροπούλου"),
        ("Πετρόπουλος", "Πετροπούλου"),
        ("Ζαχαρίου", "Ζαχαρίου"),
    ),
}

# Short or familiar forms, and (for Greek) common Latin spellings besides the standard one.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "James": ("Jim", "Jimmy", "Jamie"),
    "John": ("Johnny", "Jack"),
    "Robert": ("Bob", "Rob", "Bobby"),
    "Michael": ("Mike", "Mick"),
    "William": ("Bill", "Will", "Billy"),
    "David": ("Dave",),
    "Richard": ("Rick", "Dick", "Richie"),
    "Thomas": ("Tom", "Tommy"),
    "Christopher": ("Chris",),
    "Daniel": ("Dan", "Danny"),
    "Matthew": ("Matt",),
    "Andrew": ("Andy", "Drew"),
    "Joseph": ("Joe",),
    "Edward": ("Ed", "Ted", "Eddie"),
    "Samuel": ("Sam",),
    "Benjamin": ("Ben",),
    "Alexander": ("Alex",),
    "Charles": ("Charlie", "Chuck"),
    "Peter": ("Pete",),
    "Henry": ("Harry", "Hank"),
    "Stephen": ("Steve",),
    "Steven": ("Steve",),
    "Anthony": ("Tony",),
    "Joshua": ("Josh",),
    "Elizabeth": ("Liz", "Beth", "Lizzie", "Betty"),
    "Margaret": ("Maggie", "Peggy", "Meg"),
    "Sarah": ("Sally",),
    "Katherine": ("Kate", "Katie", "Kathy"),
    "Rebecca": ("Becky",),
    "Jessica": ("Jess",),
    "Jennifer": ("Jen", "Jenny"),
    "Victoria": ("Vicky",),
    "Susan": ("Sue",),
    "Deborah": ("Debbie", "Deb"),
    "Patricia": ("Pat", "Patty"),
    "Kimberly": ("Kim",),
    "Samantha": ("Sam",),
    "Amanda": ("Mandy",),
    "Abigail": ("Abby",),
    "Melissa": ("Mel",),
    "Stephanie": ("Steph",),
    "Barbara": ("Barb", "Basia"),
    "Madison": ("Maddie",),
    "Johannes": ("Hannes", "Hans"),
    "Maximilian": ("Max",),
    "Sebastian": ("Basti",),
    "Tobias": ("Tobi",),
    "Christian": ("Chris",),
    "Andreas": ("Andi",),
    "Katharina": ("Kathi", "Katja"),
    "Franziska": ("Franzi",),
    "Stefanie": ("Steffi",),
    "Christina": ("Tina",),
    "Susanne": ("Susi",),
    "Ursula": ("Uschi",),
    "Nicolas": ("Nico",),
    "Frédéric": ("Fred",),
    "Alexandre": ("Alex",),
    "Christophe": ("Chris",),
    "Sébastien": ("Seb",),
    "Stéphane": ("Steph",),
    "Catherine": ("Cathy",),
    "Isabelle": ("Isa",),
    "Nathalie": ("Nath",),
    "José": ("Pepe",),
    "Francisco": ("Paco", "Curro"),
    "Manuel": ("Manolo",),
    "Jesús": ("Chus",),
    "Alejandro": ("Álex",),
    "Guillermo": ("Guille",),
    "Rafael": ("Rafa",),
    "Fernando": ("Nando",),
    "Javier": ("Javi",),
    "Dolores": ("Lola",),
    "Pilar": ("Pili",),
    "Montserrat": ("Montse",),
    "Inmaculada": ("Inma",),
    "Cristina": ("Cris",),
    "Beatriz": ("Bea",),
    "Katarzyna": ("Kasia",),
    "Małgorzata": ("Gosia", "Małgosia"),
    "Aleksandra": ("Ola",),
    "Agnieszka": ("Aga",),
    "Magdalena": ("Magda",),
    "Joanna": ("Asia",),
    "Elżbieta": ("Ela",),
    "Zofia": ("Zosia",),
    "Krystyna": ("Krysia",),
    "Wojciech": ("Wojtek",),
    "Józef": ("Józek",),
    "Tomasz": ("Tomek",),
    "Krzysztof": ("Krzysiek",),
    "Jakub": ("Kuba",),
    "Grzegorz": ("Grzesiek",),
    "Maciej": ("Maciek",),
    "Bartłomiej": ("Bartek",),
    "Przemysław": ("Przemek",),
    "Zbigniew": ("Zbyszek",),
    "Stanisław": ("Staszek",),
    "Piotr": ("Piotrek",),
    "Kristoffer": ("Kris",),
    "Kristian": ("Kris",),
    "Elisabeth": ("Lise", "Lisbeth"),
    "Ingeborg": ("Inge",),
    "Frederik": ("Frede",),
    "Γιώργος": ("Giorgos", "Georgios", "Yiorgos", "George"),
    "Κωνσταντίνος": ("Konstantinos", "Kostas", "Costas", "Constantine"),
    "Δημήτρης": ("Dimitris", "Dimitrios", "Jim"),
    "Ιωάννης": ("Ioannis", "Giannis", "Yannis", "John"),
    "Νικόλαος": ("Nikolaos", "Nikos", "Nick"),
    "Παναγιώτης": ("Panagiotis", "Panos"),
    "Βασίλειος": ("Vasileios", "Vasilis", "Vassilis", "Bill"),
    "Χρήστος": ("Christos", "Hristos", "Chris"),
    "Αθανάσιος": ("Athanasios", "Thanasis"),
    "Μιχάλης": ("Michalis", "Michael"),
    "Ευάγγελος": ("Evangelos", "Vangelis"),
    "Σπύρος": ("Spyros", "Spiros"),
    "Αντώνης": ("Antonis", "Antonios", "Tony"),
    "Αλέξανδρος": ("Alexandros", "Alex"),
    "Θεόδωρος": ("Theodoros", "Thodoris"),
    "Στέλιος": ("Stelios", "Stylianos"),
    "Ηλίας": ("Ilias", "Elias"),
    "Ελένη": ("Eleni", "Helen"),
    "Αικατερίνη": ("Aikaterini", "Katerina", "Katie"),
    "Βασιλική": ("Vasiliki", "Vicky"),
    "Σοφία": ("Sofia", "Sophia"),
    "Αγγελική": ("Angeliki", "Angela"),
    "Κωνσταντίνα": ("Konstantina", "Dina"),
    "Παρασκευή": ("Paraskevi", "Voula", "Vivi"),
    "Ευαγγελία": ("Evangelia", "Litsa"),
    "Ιωάννα": ("Ioanna", "Joanna"),
    "Αναστασία": ("Anastasia", "Natasha"),
    "Δέσποινα": ("Despoina", "Despina"),
    "Φωτεινή": ("Foteini", "Fotini"),
    "Ειρήνη": ("Eirini", "Irini", "Irene"),
    "Αθηνά": ("Athina", "Athena"),
    "Ζωή": ("Zoi", "Zoe"),
}


def _pairs(spec: str) -> dict[str, str]:
    return dict(item.split("=") for item in spec.split())


_GREEK_PAIRS = _pairs(
    "ου=ou ού=ou αι=ai αί=ai ει=ei εί=ei οι=oi οί=oi ευ=ev εύ=ev αυ=av αύ=av "
    "γγ=ng γκ=gk μπ=mp ντ=nt"
)
_GREEK_SINGLE = _pairs(
    "α=a ά=a β=v γ=g δ=d ε=e έ=e ζ=z η=i ή=i θ=th ι=i ί=i ϊ=i ΐ=i κ=k λ=l μ=m ν=n ξ=x "
    "ο=o ό=o π=p ρ=r σ=s ς=s τ=t υ=y ύ=y ϋ=y ΰ=y φ=f χ=ch ψ=ps ω=o ώ=o"
)
# Letters NFKD decomposition does not reduce to ASCII.
_FOLD_STRIP = str.maketrans(_pairs("ł=l Ł=L ø=o Ø=O æ=ae Æ=AE ß=ss ı=i đ=d Đ=D œ=oe Œ=OE"))
_FOLD_EXPAND = str.maketrans(
    _pairs("ä=ae Ä=Ae ö=oe Ö=Oe ü=ue Ü=Ue ø=oe Ø=Oe å=aa Å=Aa æ=ae Æ=Ae ß=ss")
)


def is_greek(text: str) -> bool:
    return any("\u0370" <= ch <= "\u03ff" for ch in text)


def transliterate_greek(text: str) -> str:
    """Standard Latin spelling of Greek text (Γιώργος -> Giorgos); other text unchanged."""
    if not is_greek(text):
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        low = ch.lower()
        pair = text[i : i + 2].lower()
        if pair in _GREEK_PAIRS:
            latin = _GREEK_PAIRS[pair]
            if pair == "μπ" and (i == 0 or not text[i - 1].isalpha()):
                latin = "b"
            i += 2
        else:
            latin = _GREEK_SINGLE.get(low, ch)
            i += 1
        out.append(latin.capitalize() if ch != low and latin else latin)
    return "".join(out)


def ascii_fold(text: str, expand: bool = False) -> str:
    """ASCII rendering: Greek transliterated, diacritics dropped (or expanded, ü -> ue)."""
    text = transliterate_greek(text)
    if expand:
        text = text.translate(_FOLD_EXPAND)
    text = text.translate(_FOLD_STRIP)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
