//! Gemini's paths (`/v1beta/models/{model}:{method}`, `/v1/models/…`) and
//! its `?key=` query parameter, taken apart.

/// A path below `/{version}/models/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelPath {
    /// `v1beta` or `v1`, as the client called it.
    pub version: &'static str,
    /// The model as the client named it, percent-decoded (`openai@gpt-4.1`).
    pub model: String,
    /// `generateContent`, `streamGenerateContent`, `countTokens`…; `None`
    /// for the model itself (`GET /v1beta/models/{model}`).
    pub method: Option<String>,
}

/// Whether a path is one of Gemini's (keyrelay's own `/v1/models` list excepted).
pub fn is_gemini(path: &str) -> bool {
    path.starts_with("/v1beta/") || path.starts_with("/v1/models/")
}

impl ModelPath {
    /// `None` when the path is not `/{v1beta|v1}/models/{model}[:{method}]`
    /// or its model is empty or not valid percent-encoded UTF-8.
    pub fn parse(path: &str) -> Option<ModelPath> {
        let (version, tail) = ["v1beta", "v1"].into_iter().find_map(|version| {
            let tail = path
                .strip_prefix('/')?
                .strip_prefix(version)?
                .strip_prefix("/models/")?;
            Some((version, tail))
        })?;
        // A model name may hold `:` (`ollama@llama3:8b`); the method never does.
        let (model, method) = match tail.rsplit_once(':') {
            Some((model, method)) if is_method(method) => (model, Some(method.to_owned())),
            _ => (tail, None),
        };
        let model = percent_decode(model)?;
        let model = model.strip_prefix("models/").unwrap_or(&model).to_owned();
        (!model.trim().is_empty()).then_some(ModelPath {
            version,
            model,
            method,
        })
    }

    /// Whether the method streams (`streamGenerateContent`).
    pub fn streams(&self) -> bool {
        self.method.as_deref() == Some("streamGenerateContent")
    }
}

/// A method name: letters only (`generateContent`, `batchEmbedContents`).
fn is_method(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphabetic())
}

/// The `key` query parameter (how Gemini clients may send their key),
/// percent-decoded.
pub fn key_param(query: &str) -> Option<String> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("key="))
        .and_then(percent_decode)
        .filter(|key| !key.is_empty())
}

/// Whether the query asks for server-sent events (`alt=sse`).
pub fn wants_sse(query: Option<&str>) -> bool {
    query.is_some_and(|q| {
        q.split('&')
            .any(|pair| pair.eq_ignore_ascii_case("alt=sse"))
    })
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(path: &str) -> Option<(&'static str, String, Option<String>)> {
        ModelPath::parse(path).map(|p| (p.version, p.model, p.method))
    }

    #[test]
    fn a_path_names_the_model_plain_or_percent_encoded_and_the_method() {
        assert_eq!(
            parsed("/v1beta/models/gemini-2.5-flash:streamGenerateContent"),
            Some((
                "v1beta",
                "gemini-2.5-flash".into(),
                Some("streamGenerateContent".into())
            ))
        );
        assert_eq!(
            parsed("/v1beta/models/openai%40gpt-4.1:generateContent")
                .unwrap()
                .1,
            "openai@gpt-4.1"
        );
        assert_eq!(
            parsed("/v1/models/or/google/gemini-2.5-pro:countTokens"),
            Some((
                "v1",
                "or/google/gemini-2.5-pro".into(),
                Some("countTokens".into())
            ))
        );
        assert_eq!(
            parsed("/v1beta/models/ollama@llama3:8b:generateContent")
                .unwrap()
                .1,
            "ollama@llama3:8b"
        );
        assert_eq!(
            parsed("/v1beta/models/gemini-2.5-flash"),
            Some(("v1beta", "gemini-2.5-flash".into(), None))
        );
        assert_eq!(parsed("/v1beta/models/:generateContent"), None);
        assert_eq!(parsed("/v1beta/models/bad%zz:generateContent"), None);
        assert_eq!(parsed("/v1beta/tunedModels/x:generateContent"), None);
    }

    #[test]
    fn the_key_parameter_and_alt_sse_are_read_from_the_query() {
        assert_eq!(
            key_param("alt=sse&key=team%2Btoken").as_deref(),
            Some("team+token")
        );
        assert_eq!(key_param("alt=sse&monkey=x"), None);
        assert_eq!(key_param("key="), None);
        assert!(wants_sse(Some("key=k&alt=sse")));
        assert!(!wants_sse(Some("alt=json")));
        assert!(!wants_sse(None));
    }
}
