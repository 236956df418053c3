//! Schemas of values whose allowed set or bounds live in `clinic-domain`: the API's documents read
//! them from there rather than spelling them out.

use clinic_app::ErrorCode;
use clinic_domain::protocol::StageKey;
use clinic_domain::series::{Condition, MAXIMUM, NextSession, TYPICAL_MAX};
use clinic_domain::session::{Device, NeedleDepth, Product};
use clinic_domain::user::Role;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaType, Type};
use utoipa::openapi::{Object, RefOr, Schema};

fn one_of_strings<'a>(values: impl IntoIterator<Item = &'a str>) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.into_iter().map(str::to_owned)))
        .build()
}

fn nullable_strings<'a>(values: impl IntoIterator<Item = &'a str>) -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(
            values
                .into_iter()
                .map(|v| serde_json::Value::from(v.to_owned()))
                .chain([serde_json::Value::Null]),
        ))
        .build()
}

fn integer(min: u8, max: u8) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(min))
        .maximum(Some(max))
        .build()
}

fn exactly(n: u8) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .enum_values(Some([n]))
        .build()
}

pub fn session_number() -> Object {
    integer(1, MAXIMUM)
}

pub fn planned_sessions() -> Object {
    integer(1, MAXIMUM)
}

pub fn typical_max() -> Object {
    exactly(TYPICAL_MAX)
}

pub fn maximum() -> Object {
    exactly(MAXIMUM)
}

pub fn needle_depth() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Number)
        .minimum(Some(NeedleDepth::MIN.mm()))
        .maximum(Some(NeedleDepth::MAX.mm()))
        .build()
}

pub fn device() -> Object {
    one_of_strings([Device::Roller, Device::Pen].map(Device::as_str))
}

pub fn products() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(one_of_strings(Product::ALL.map(Product::code)))
        .build()
        .into()
}

pub fn condition() -> Object {
    one_of_strings(Condition::ALL.map(Condition::code))
}

pub fn series_status() -> Object {
    one_of_strings([clinic_db::series::STATUS_OPEN, clinic_db::series::STATUS_COMPLETED])
}

pub fn next_session() -> Object {
    let all = [
        NextSession::Typical,
        NextSession::NeedsAcknowledgement,
        NextSession::Refused,
        NextSession::SeriesClosed,
    ];
    one_of_strings(all.map(NextSession::as_str))
}

pub fn stage_key() -> Object {
    one_of_strings(StageKey::ALL.map(StageKey::as_str))
}

pub fn optional_stage_key() -> Object {
    nullable_strings(StageKey::ALL.map(StageKey::as_str))
}

pub fn role() -> Object {
    one_of_strings([Role::Manager, Role::Provider, Role::Patient].map(Role::as_str))
}

pub fn staff_role() -> Object {
    one_of_strings([Role::Manager, Role::Provider].map(Role::as_str))
}

pub fn mfa_policy() -> Object {
    one_of_strings(clinic_domain::clinic::MfaPolicy::ALL.map(clinic_domain::clinic::MfaPolicy::as_str))
}

pub fn message_kind() -> Object {
    one_of_strings(clinic_domain::messages::MessageKind::ALL.map(clinic_domain::messages::MessageKind::as_str))
}

pub fn message_status() -> Object {
    use clinic_db::outbox::{CANCELLED, FAILED, HELD, QUEUED, SENT};
    one_of_strings([QUEUED, SENT, FAILED, HELD, CANCELLED])
}

pub fn regions() -> RefOr<Schema> {
    use clinic_domain::session::Region;
    ArrayBuilder::new()
        .items(one_of_strings(Region::ALL.map(Region::code)))
        .min_items(Some(1))
        .build()
        .into()
}

pub fn effects() -> RefOr<Schema> {
    use clinic_domain::protocol::Effect;
    ArrayBuilder::new()
        .items(one_of_strings(Effect::ALL.map(Effect::code)))
        .build()
        .into()
}

pub fn alert_status() -> Object {
    one_of_strings([clinic_db::check_ins::OPEN, clinic_db::check_ins::RESOLVED])
}

pub fn error_code() -> Object {
    one_of_strings(ErrorCode::ALL.iter().map(|c| c.as_str()))
}
