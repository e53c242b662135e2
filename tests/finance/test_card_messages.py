"""What a declined card payment tells the dealer: the bank's response code in the dealer's
words, in the reader's language; the bank's own words only for a code we do not know."""

from __future__ import annotations

import pytest
from django.utils import translation

from apps.finance.card_messages import bank_declined_message, card_message_shown


@pytest.mark.parametrize(
    ("code", "english", "turkish"),
    [
        (
            "51",
            "The bank declined the payment: the card's balance or limit is not enough.",
            "Banka ödemeyi reddetti: kartın bakiyesi ya da limiti yetersiz.",
        ),
        (
            " n7 ",
            "The bank declined the payment: the security code (CVC) is wrong.",
            "Banka ödemeyi reddetti: güvenlik kodu (CVC) yanlış.",
        ),
        (
            "43",  # a stolen card: a plain decline, as banks ask shops to say
            "The bank declined the payment. Please call your bank or pay with another card.",
            "Banka ödemeyi reddetti. Lütfen bankanızı arayın ya da başka bir kartla ödeyin.",
        ),
    ],
)
def test_a_known_bank_code_reads_in_the_dealers_words_in_either_language(code, english, turkish):
    with translation.override("en"):
        stored = bank_declined_message(code, "Pick up card, special conditions")
    assert stored == english
    with translation.override("tr"):
        assert card_message_shown(stored) == turkish
        assert bank_declined_message(code, "whatever the bank says") == turkish


def test_an_unknown_code_keeps_the_banks_words_inside_ours():
    with translation.override("en"):
        stored = bank_declined_message("Z9", "Card velocity rule")
    assert stored == "The bank declined the payment: Card velocity rule"
    with translation.override("tr"):
        assert card_message_shown(stored) == "Banka ödemeyi reddetti: Card velocity rule"
    with translation.override("en"):
        assert bank_declined_message("", "") == "The bank declined the payment."
