use super::*;
use crate::ctap2::{decode_body, encode_request, Response};

#[test]
fn messages_are_the_command_byte_alone() {
    // §6.3, §6.6, §6.9: no parameters.
    assert_eq!(encode_request(&GetNextAssertionRequest), vec![0x08]);
    assert_eq!(encode_request(&ResetRequest), vec![0x07]);
    assert_eq!(encode_request(&SelectionRequest), vec![0x0b]);
}

#[test]
fn requests_round_trip_and_ignore_a_stray_body() {
    let none = decode_body(&[], true).unwrap();
    assert_eq!(none, None);
    assert_eq!(
        GetNextAssertionRequest::from_cbor(none.clone()),
        Ok(GetNextAssertionRequest)
    );
    assert_eq!(ResetRequest::from_cbor(none.clone()), Ok(ResetRequest));
    assert_eq!(SelectionRequest::from_cbor(none), Ok(SelectionRequest));
    let stray = decode_body(&[0xa0], true).unwrap();
    assert_eq!(ResetRequest::from_cbor(stray.clone()), Ok(ResetRequest));
    assert_eq!(SelectionRequest::from_cbor(stray), Ok(SelectionRequest));
}

#[test]
fn reset_and_selection_answer_with_an_empty_body() {
    let r: <ResetRequest as Request>::Response = EmptyResponse;
    assert_eq!(Response::to_cbor(&r), None);
    let s: <SelectionRequest as Request>::Response =
        Response::from_cbor(decode_body(&[], true).unwrap()).unwrap();
    assert_eq!(s, EmptyResponse);
}
