"""Pure helpers of the pipeline."""

from gateway.domain.compliance import Keyword, keyword, keyword_language
from gateway.pipeline import fill_agent_name


def test_agent_name_fills_and_capitalises_a_neutral_phrase_at_sentence_start() -> None:
    assert fill_agent_name("Thanks, Ana! {agent_name} from our team will call.", "Luis") == (
        "Thanks, Ana! Luis from our team will call.")
    assert fill_agent_name("Thanks! {agent_name} will call.", "an agent") == (
        "Thanks! An agent will call.")
    assert fill_agent_name("¡Gracias! {agent_name}, de nuestro equipo, llamará.", "un agente") == (
        "¡Gracias! Un agente, de nuestro equipo, llamará.")
    assert fill_agent_name("We asked {agent_name} to call.", "an agent") == (
        "We asked an agent to call.")
    assert fill_agent_name("No placeholder here.", "Ana") == "No placeholder here."


def test_compliance_keywords_only_as_the_whole_message() -> None:
    assert keyword("STOP") is Keyword.STOP
    assert keyword(" alto! ") is Keyword.STOP
    assert keyword("Ayuda") is Keyword.HELP
    assert keyword("START") is Keyword.START
    assert keyword("stop by at 5") is None
    assert keyword("yes") is None  # "yes" re-subscribes only an opted-out lead
    assert keyword("yes", opted_out=True) is Keyword.START
    assert keyword_language("ALTO") == "es" and keyword_language("STOP") is None
