//! Answers the requests of one authenticated device: validate, call the store, push what the
//! other devices must hear.

use std::time::Instant;

use flint_proto::wire::{self, push, request, response};
use tracing::Instrument;

use crate::calls::rules::Party;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::{ConversationId, NewMessage, Session, UserId};
use crate::throttle::TokenBucket;
use crate::validate;

/// Receipts are pushed to every member only in conversations up to this size; in larger
/// groups members read markers with `GetConversation` instead of a push storm.
const RECEIPT_FANOUT_MEMBERS: usize = 32;
/// Page size when the client asks for 0.
const DEFAULT_SYNC_PAGE: u32 = 200;
/// Conversations per page when the client asks for 0, and at most.
const DEFAULT_CONVERSATION_PAGE: u32 = 100;
const MAX_CONVERSATION_PAGE: u32 = 500;

/// The request handler of one connection.
pub struct Dispatcher {
    session: Session,
    state: AppState,
    limiter: TokenBucket,
    violations: u32,
    span: tracing::Span,
}

type Answer = Result<response::Result, AppError>;

fn ok() -> Answer {
    Ok(response::Result::Ok(wire::Empty {}))
}

impl Dispatcher {
    /// A handler for `session`'s connection.
    pub fn new(session: Session, state: AppState) -> Self {
        let limits = &state.config.limits;
        let limiter = TokenBucket::new(
            f64::from(limits.requests_per_second),
            limits.request_burst,
            Instant::now(),
        );
        let span = tracing::info_span!(
            "device",
            user_id = session.user_id,
            device_id = %session.device_id
        );
        Self {
            session,
            state,
            limiter,
            violations: 0,
            span,
        }
    }

    /// True once the client has ignored too many rate-limit answers in a row.
    pub fn over_rate_limit(&self) -> bool {
        self.violations > self.state.config.limits.max_rate_violations
    }

    /// Answers one request (in a span naming the user and device).
    pub async fn handle(&mut self, request: wire::Request) -> Answer {
        if let Err(wait) = self.limiter.try_take(Instant::now()) {
            self.violations += 1;
            return Err(AppError::rate_limited(wait));
        }
        self.violations = 0;
        let body = request
            .body
            .ok_or_else(|| AppError::BadRequest("request has no body".into()))?;
        let span = tracing::debug_span!(parent: &self.span, "request", id = request.request_id);
        let answer = self.route(body).instrument(span).await;
        if let Err(error) = &answer {
            let _entered = self.span.enter();
            tracing::debug!(code = ?error.code(), "request refused");
        }
        answer
    }

    async fn route(&self, body: request::Body) -> Answer {
        match body {
            request::Body::Auth(_) => Err(AppError::BadRequest("already authenticated".into())),
            request::Body::Send(send) => self.send(send).await,
            request::Body::Sync(sync) => self.sync(sync).await,
            request::Body::Ack(ack) => self.ack(ack).await,
            request::Body::MarkRead(mark) => self.mark_read(mark).await,
            request::Body::Typing(typing) => self.typing(typing).await,
            request::Body::OpenDirect(open) => self.open_direct(open).await,
            request::Body::CreateGroup(create) => self.create_group(create).await,
            request::Body::AddMembers(add) => self.add_members(add).await,
            request::Body::RemoveMembers(remove) => self.remove_members(remove).await,
            request::Body::LeaveGroup(leave) => self.leave_group(leave).await,
            request::Body::GetConversation(get) => self.get_conversation(get).await,
            request::Body::ListConversations(list) => self.list_conversations(list).await,
            request::Body::CallInvite(invite) => self.call_invite(invite).await,
            request::Body::CallAction(action) => self.call_action(action).await,
            request::Body::CallSignal(signal) => self.call_signal(signal),
        }
    }

    fn me(&self) -> UserId {
        self.session.user_id
    }

    /// This device as a call participant.
    fn party(&self) -> Party {
        Party {
            user_id: self.session.user_id,
            device_id: self.session.device_id.clone(),
        }
    }

    async fn call_invite(&self, invite: wire::CallInvite) -> Answer {
        // An invite rings devices and may leave a call log: it counts as a send.
        self.state
            .guards
            .sends
            .try_take(&self.me(), Instant::now())
            .map_err(AppError::rate_limited)?;
        let media = invite.media();
        let started = self
            .state
            .calls
            .invite(self.party(), invite.conversation_id, media)
            .await?;
        Ok(response::Result::CallStarted(started))
    }

    async fn call_action(&self, action: wire::CallAction) -> Answer {
        let verb = action.verb();
        self.state
            .calls
            .act(self.party(), &action.call_id, verb)
            .await?;
        ok()
    }

    fn call_signal(&self, signal: wire::CallSignal) -> Answer {
        validate::call_signal(&signal)?;
        self.state.calls.signal(&self.party(), signal)?;
        ok()
    }

    async fn send(&self, send: wire::SendMessage) -> Answer {
        validate::client_id(&send.client_id)?;
        let checked = validate::content(&send.content, &self.state.config.limits)?;
        // Per user, over every connection: reconnecting does not buy a fresh allowance.
        self.state
            .guards
            .sends
            .try_take(&self.me(), Instant::now())
            .map_err(AppError::rate_limited)?;
        let outcome = self
            .state
            .store
            .send(NewMessage {
                sender_id: self.me(),
                conversation_id: send.conversation_id,
                client_id: send.client_id,
                content: send.content,
                recalls: checked.recalls,
                files: checked.files,
            })
            .await?;
        Ok(response::Result::SendOk(wire::SendOk {
            message: Some(outcome.message),
            duplicate: outcome.duplicate,
        }))
    }

    async fn sync(&self, sync: wire::SyncRequest) -> Answer {
        let max = self.state.config.limits.max_sync_page;
        let limit = match sync.limit {
            0 => DEFAULT_SYNC_PAGE.min(max),
            asked => asked.min(max),
        };
        let budget = self.state.config.limits.max_response_bytes;
        let page = self
            .state
            .store
            .sync(self.me(), sync.since_seq, limit, budget)
            .await?;
        Ok(response::Result::SyncPage(page))
    }

    async fn ack(&self, ack: wire::Ack) -> Answer {
        let receipts = self.state.store.ack(self.me(), ack.up_to_seq).await?;
        for receipt in receipts {
            self.push_receipt(receipt).await?;
        }
        ok()
    }

    async fn mark_read(&self, mark: wire::MarkRead) -> Answer {
        let receipt = self
            .state
            .store
            .mark_read(self.me(), mark.conversation_id, mark.up_to_message_id)
            .await?;
        self.push_receipt(receipt).await?;
        ok()
    }

    async fn push_receipt(&self, receipt: wire::Receipt) -> Result<(), AppError> {
        let members = self
            .state
            .store
            .member_ids(self.me(), receipt.conversation_id)
            .await?;
        let audience = if members.len() <= RECEIPT_FANOUT_MEMBERS {
            members
        } else {
            vec![self.me()]
        };
        self.state
            .hub
            .push_to_users(audience, push::Body::Receipt(receipt));
        Ok(())
    }

    async fn typing(&self, typing: wire::Typing) -> Answer {
        let me = self.me();
        let members = self
            .state
            .store
            .member_ids(me, typing.conversation_id)
            .await?;
        let notice = wire::TypingNotice {
            conversation_id: typing.conversation_id,
            user_id: me,
        };
        let others = members.into_iter().filter(|&member| member != me);
        self.state
            .hub
            .push_to_users(others, push::Body::Typing(notice));
        ok()
    }

    async fn open_direct(&self, open: wire::OpenDirect) -> Answer {
        let conversation = self
            .state
            .store
            .open_direct(self.me(), open.user_id)
            .await?;
        Ok(self.announce(conversation))
    }

    fn member_limit(&self) -> usize {
        self.state.config.limits.max_group_members
    }

    async fn create_group(&self, create: wire::CreateGroup) -> Answer {
        let name = validate::group_name(&create.name)?;
        let members = validate::user_ids(&create.member_ids, self.member_limit())?;
        let conversation = self
            .state
            .store
            .create_group(self.me(), &name, &members)
            .await?;
        Ok(self.announce(conversation))
    }

    async fn add_members(&self, add: wire::AddMembers) -> Answer {
        let users = validate::user_ids(&add.user_ids, self.member_limit())?;
        let conversation = self
            .state
            .store
            .add_members(self.me(), add.conversation_id, &users)
            .await?;
        Ok(self.announce(conversation))
    }

    async fn remove_members(&self, remove: wire::RemoveMembers) -> Answer {
        let users = validate::user_ids(&remove.user_ids, self.member_limit())?;
        let conversation = self
            .state
            .store
            .remove_members(self.me(), remove.conversation_id, &users)
            .await?;
        Ok(self.announce(conversation))
    }

    async fn leave_group(&self, leave: wire::LeaveGroup) -> Answer {
        let conversation = self
            .state
            .store
            .leave_group(self.me(), leave.conversation_id)
            .await?;
        self.announce(conversation);
        ok()
    }

    /// Pushes the (new or changed) conversation to its members and answers with it.
    fn announce(&self, conversation: wire::Conversation) -> response::Result {
        let members: Vec<UserId> = conversation.members.iter().map(|m| m.user_id).collect();
        self.state
            .hub
            .push_to_users(members, push::Body::Conversation(conversation.clone()));
        response::Result::Conversation(conversation)
    }

    async fn get_conversation(&self, get: wire::GetConversation) -> Answer {
        let id: ConversationId = get.conversation_id;
        let conversation = self.state.store.conversation(self.me(), id).await?;
        Ok(response::Result::Conversation(conversation))
    }

    async fn list_conversations(&self, list: wire::ListConversations) -> Answer {
        let limit = match list.limit {
            0 => DEFAULT_CONVERSATION_PAGE,
            asked => asked.min(MAX_CONVERSATION_PAGE),
        };
        let budget = self.state.config.limits.max_response_bytes;
        let page = self
            .state
            .store
            .conversations(self.me(), list.after_id, limit, budget)
            .await?;
        Ok(response::Result::Conversations(page))
    }
}
