use super::*;

#[test]
fn the_bearer_scheme_is_matched_in_any_case_with_any_space_after_it() {
    for value in [
        "Bearer tok-1",
        "bearer tok-1",
        "BEARER tok-1",
        "BeArEr    tok-1",
        "Bearer\ttok-1 ",
        " Bearer tok-1",
    ] {
        assert_eq!(bearer_token(value), Some("tok-1"), "{value:?}");
    }
    for value in [
        "Basic tok-1",
        "Bearer",
        "Bearer   ",
        "Bearertok-1",
        "tok-1",
        "",
    ] {
        assert_eq!(bearer_token(value), None, "{value:?}");
    }
}
