"""Synthetic sites and patient identifiers (names and phone numbers that the app encrypts)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from demo.synthetic import params

# Real French cities; the clinics themselves are invented.
CITIES: tuple[str, ...] = (
    "Clermont-Ferrand", "Lyon", "Paris", "Marseille", "Toulouse", "Bordeaux", "Nantes", "Lille",
    "Strasbourg", "Montpellier", "Rennes", "Nice", "Grenoble", "Dijon", "Limoges", "Tours",
    "Brest", "Rouen", "Reims", "Nancy", "Poitiers", "Saint-Étienne", "Angers", "Caen", "Amiens",
    "Besançon", "Nîmes", "Perpignan", "Metz", "Orléans",
)  # fmt: skip
_CLINIC_STYLES: tuple[str, ...] = (
    "Centre de la douleur du CHU de {city}",
    "Centre de la douleur de l'hôpital Saint-{saint} ({city})",
    "Centre de la douleur chronique de {city}",
    "Centre de la douleur de la clinique des {place} ({city})",
)
_SAINTS: tuple[str, ...] = ("Joseph", "Louis", "Jacques", "Luc", "Roch", "Vincent", "Martin")
_PLACES: tuple[str, ...] = ("Cèdres", "Tilleuls", "Oliviers", "Platanes", "Peupliers")

FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "F": (
        "Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Valérie", "Christine", "Sandrine",
        "Véronique", "Françoise", "Stéphanie", "Céline", "Patricia", "Martine", "Nadia", "Sophie",
        "Karine", "Laurence", "Chantal", "Corinne", "Brigitte", "Virginie", "Aurélie", "Émilie",
        "Julie", "Monique", "Annie", "Hélène", "Florence", "Agnès", "Fatima", "Claire",
    ),
    "M": (
        "Philippe", "Christophe", "Pierre", "Stéphane", "Frédéric", "Laurent", "Éric", "Olivier",
        "Patrick", "Thierry", "Pascal", "Nicolas", "David", "Jean", "Michel", "Alain", "Didier",
        "Bruno", "Sébastien", "Franck", "Gilles", "Thomas", "Julien", "Karim", "Vincent", "Daniel",
        "Jérôme", "Marc", "Dominique", "Serge", "Mohamed", "Yves",
    ),
}  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
    "Laurent", "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
    "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent",
    "Muller", "Lefèvre", "Faure", "André", "Mercier", "Blanc", "Guérin", "Boyer", "Garnier",
    "Chevalier", "François", "Legrand", "Gauthier", "Garcia", "Perrin", "Robin", "Clément",
    "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson", "Marchand", "Duval",
    "Denis", "Dumont", "Marie", "Lemaire", "Noël", "Meyer", "Dufour", "Meunier", "Brun",
    "Blanchard", "Giraud", "Joly", "Rivière", "Lucas", "Brunet", "Gaillard", "Barbier", "Arnaud",
    "Martinez", "Gérard", "Roche", "Renard", "Schmitt", "Roy", "Leroux", "Colin", "Vidal",
    "Caron", "Picard", "Roger", "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas", "Lacroix",
    "Olivier", "Philippe", "Bourgeois", "Pierre", "Benoît", "Rey", "Leclerc", "Payet", "Rolland",
    "Chabert", "Pélissier", "Vernet",
)  # fmt: skip


def make_sites(rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Return the sites frame, the recruitment weight of each site and its dose-unit habit.

    The weights follow a Zipf-like law over the size ranks, the ranks shuffled over the sites.
    The third array says whether the site writes doses in mg/kg (True) or in mg.
    """
    n = params.N_SITES
    ranks = rng.permutation(n) + 1
    weights = ranks.astype(float) ** -params.SITE_SIZE_EXPONENT
    weights /= weights.sum()
    styles = rng.integers(0, len(_CLINIC_STYLES), size=n)
    saints = rng.integers(0, len(_SAINTS), size=n)
    places = rng.integers(0, len(_PLACES), size=n)
    names = [
        _CLINIC_STYLES[styles[k]].format(
            city=CITIES[k], saint=_SAINTS[saints[k]], place=_PLACES[places[k]]
        )
        for k in range(n)
    ]
    frame = pd.DataFrame(
        {
            "code": [f"S{k + 1:02d}" for k in range(n)],
            "name": names,
            "city": list(CITIES[:n]),
        }
    )
    mg_per_kg = rng.random(n) < params.SITE_MG_PER_KG_SHARE
    return frame, weights, mg_per_kg


def study_codes(site_index: np.ndarray, inclusion_days: np.ndarray) -> np.ndarray:
    """Return study codes ``S07-0012``: site code and rank of inclusion within the site.

    Ties on the inclusion day keep the patient order, so the codes are deterministic.
    """
    n = site_index.size
    order = np.lexsort((np.arange(n), inclusion_days, site_index))
    sorted_sites = site_index[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_sites)) + 1]
    group_start = np.repeat(starts, np.diff(np.r_[starts, n]))
    number = np.empty(n, dtype=np.int64)
    number[order] = np.arange(n) - group_start + 1
    width = max(4, len(str(int(number.max())))) if n else 4
    return np.array(
        [f"S{s + 1:02d}-{k:0{width}d}" for s, k in zip(site_index, number, strict=True)],
        dtype=object,
    )


def names_and_phones(
    rng: np.random.Generator, is_woman: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return synthetic first names, last names and French mobile numbers."""
    n = is_woman.size
    women = np.array(FIRST_NAMES["F"], dtype=object)
    men = np.array(FIRST_NAMES["M"], dtype=object)
    first = np.where(
        is_woman, women[rng.integers(0, women.size, n)], men[rng.integers(0, men.size, n)]
    )
    last = np.array(LAST_NAMES, dtype=object)[rng.integers(0, len(LAST_NAMES), n)]
    prefix = np.where(rng.random(n) < 0.7, 6, 7)
    digits = rng.integers(0, 100, size=(n, 4))
    phones = np.array(
        [
            f"0{p} {a:02d} {b:02d} {c:02d} {d:02d}"
            for p, (a, b, c, d) in zip(prefix, digits.tolist(), strict=True)
        ],
        dtype=object,
    )
    return first, last, phones
