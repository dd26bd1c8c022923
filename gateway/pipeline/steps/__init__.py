"""The stages of the mail pipeline, in order: the order is the design.

A new step is one line here.  Why each sits where it does:
  elide_body_markers    first: a relaydesk's machine reference is not text for people
  handle_bounces        before `receive`: a VERP return path is no hosted address, and a bounce never threads
  receive … follow_up_finished: which account, which ticket, who is writing
  handoff_step          before `open_new_ticket`: a dispatcher's forward to a partner opens a child instead
  digest_preference     before `open_new_ticket`: an agent's `#digest off|on` is a setting, not a request
  commands_step         before `store_message`: #internal etc. change how the message is stored
  store_message, apply_follow_up: the message and its status effects
  federation_step       another relaydesk's X-Relaydesk-* headers: remote ref, executor's status
  mirror_step … announce_new_ticket: outbound, after everything is stored
  settle_history        last: a past mail's ticket may be imported resolved once all of it is stored
(The forwarded-original threading rule lives in gateway.pipeline.thread_match.RULES.)
"""

from gateway.pipeline.context import Step
from gateway.pipeline.steps.answer import (
    acknowledge,
    announce_new_ticket,
    relay_agent_reply,
)
from gateway.pipeline.steps.bounces import handle_bounces
from gateway.pipeline.steps.commands import commands_step
from gateway.pipeline.steps.digest import digest_preference
from gateway.pipeline.steps.federation import elide_body_markers, federation_step
from gateway.pipeline.steps.handoff import handoff_step
from gateway.pipeline.steps.history import settle_history
from gateway.pipeline.steps.mirror import mirror_step
from gateway.pipeline.steps.receive import receive, skip_duplicate
from gateway.pipeline.steps.sender import classify_sender
from gateway.pipeline.steps.store import (
    apply_follow_up,
    open_new_ticket,
    skip_unthreaded_sent,
    store_message,
)
from gateway.pipeline.steps.thread import follow_up_finished, thread

STEPS: list[Step] = [
    elide_body_markers,
    handle_bounces,
    receive,
    skip_duplicate,
    thread,
    classify_sender,
    follow_up_finished,
    handoff_step,
    skip_unthreaded_sent,
    digest_preference,
    open_new_ticket,
    commands_step,
    store_message,
    apply_follow_up,
    federation_step,
    mirror_step,
    relay_agent_reply,
    acknowledge,
    announce_new_ticket,
    settle_history,
]

# The first step that runs again for each further account a mail was addressed to (after `receive`).
PER_ACCOUNT_FROM = STEPS.index(receive) + 1
