//! Chat templates: the model's own `tokenizer.chat_template` (Jinja, rendered by minijinja with
//! Python-compatible string methods), or a built-in one when the file has none.

use minijinja::{context, Environment};
use serde::{Deserialize, Serialize};

use crate::calendar::civil_from_days;
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: String,
    pub content: String,
}

impl Message {
    pub fn new(role: &str, content: impl Into<String>) -> Self {
        Message { role: role.to_string(), content: content.into() }
    }
}

/// Built-in templates for files without one.
pub const CHATML: &str = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";
pub const LLAMA3: &str = "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";
/// Gemma has no system role: a system message is prepended to the first user turn.
pub const GEMMA: &str = "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{% set sys = messages[0]['content'] + '\n\n' %}{% set rest = messages[1:] %}{% else %}{% set sys = '' %}{% set rest = messages %}{% endif %}{% for message in rest %}{% set role = 'model' if message['role'] == 'assistant' else message['role'] %}{{ '<start_of_turn>' + role + '\n' + (sys if loop.first else '') + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<start_of_turn>model\n' }}{% endif %}";
/// For base models: plain text turns, the model continues after "Assistant:".
pub const PLAIN: &str = "{% for message in messages %}{% if message['role'] == 'system' %}{{ message['content'] + '\n\n' }}{% elif message['role'] == 'user' %}{{ 'User: ' + message['content'] + '\n' }}{% else %}{{ 'Assistant: ' + message['content'] + '\n' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}";

pub struct ChatTemplate {
    source: String,
    bos: String,
    eos: String,
    /// Stop strings that end a turn for templates whose end marker is plain text.
    pub stops: Vec<String>,
}

impl ChatTemplate {
    pub fn new(source: &str, bos: &str, eos: &str) -> Result<Self> {
        let template =
            ChatTemplate { source: source.to_string(), bos: bos.to_string(), eos: eos.to_string(), stops: Vec::new() };
        // Fail early, with the template's own error, rather than on the first question.
        template.render(&[Message::new("user", "hi")], true)?;
        Ok(template)
    }

    /// A built-in template by name: chatml, llama3, gemma or plain.
    pub fn builtin(name: &str, bos: &str, eos: &str) -> Result<Self> {
        let (source, stops) = match name {
            "chatml" => (CHATML, vec![]),
            "llama3" => (LLAMA3, vec![]),
            "gemma" => (GEMMA, vec![]),
            "plain" => (PLAIN, vec!["\nUser:".to_string()]),
            other => {
                return Err(Error::InvalidInput(format!(
                    "no built-in chat template '{other}' (chatml, llama3, gemma, plain)"
                )))
            }
        };
        let mut template = Self::new(source, bos, eos)?;
        template.stops = stops;
        Ok(template)
    }

    pub fn render(&self, messages: &[Message], add_generation_prompt: bool) -> Result<String> {
        let mut env = Environment::new();
        minijinja_contrib::add_to_environment(&mut env);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", |message: String| -> std::result::Result<String, minijinja::Error> {
            Err(minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, message))
        });
        env.add_function("strftime_now", |format: String| -> String {
            // Templates use it for "today" in system prompts; a fixed date keeps prompts cacheable
            // within a day and avoids a clock dependency in tests.
            let days = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() / 86_400)
                .unwrap_or(0);
            let (y, m, d) = civil_from_days(days as i64);
            format
                .replace("%Y", &y.to_string())
                .replace("%m", &format!("{m:02}"))
                .replace("%d", &format!("{d:02}"))
                .replace("%B", MONTHS[(m - 1) as usize])
                .replace("%b", &MONTHS[(m - 1) as usize][..3])
        });
        env.add_template("chat", &self.source)
            .map_err(|e| Error::InvalidInput(format!("the model's chat template does not parse: {e}")))?;
        let template = env.get_template("chat").expect("added above");
        template
            .render(context! {
                messages => messages_value(messages),
                add_generation_prompt => add_generation_prompt,
                bos_token => self.bos.clone(),
                eos_token => self.eos.clone(),
            })
            .map_err(|e| Error::InvalidInput(format!("rendering the chat template failed: {e}")))
    }
}

/// Messages as template values: a list of maps with `role` and `content`.
fn messages_value(messages: &[Message]) -> minijinja::Value {
    let list: Vec<minijinja::Value> = messages
        .iter()
        .map(|m| {
            let map: std::collections::BTreeMap<String, minijinja::Value> =
                [("role".to_string(), m.role.clone().into()), ("content".to_string(), m.content.clone().into())]
                    .into_iter()
                    .collect();
            minijinja::Value::from(map)
        })
        .collect();
    minijinja::Value::from(list)
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chatml_multi_turn() {
        let t = ChatTemplate::builtin("chatml", "", "<|im_end|>").unwrap();
        let text = t
            .render(
                &[
                    Message::new("system", "Be brief."),
                    Message::new("user", "Hi"),
                    Message::new("assistant", "Hello!"),
                    Message::new("user", "Bye"),
                ],
                true,
            )
            .unwrap();
        assert_eq!(
            text,
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n"
        );
    }

    #[test]
    fn gemma_folds_system_into_first_user_turn() {
        let t = ChatTemplate::builtin("gemma", "<bos>", "<eos>").unwrap();
        let text = t.render(&[Message::new("system", "Be brief."), Message::new("user", "Hi")], true).unwrap();
        assert_eq!(text, "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n");
    }

    #[test]
    fn python_string_methods_and_exceptions_work() {
        let t = ChatTemplate::new("{% if messages[0]['role'] != 'user' %}{{ raise_exception('user first') }}{% endif %}{{ messages[0]['content'].strip().upper() }}", "", "").unwrap();
        assert_eq!(t.render(&[Message::new("user", "  hi ")], false).unwrap(), "HI");
        let err = t.render(&[Message::new("system", "x")], false).unwrap_err().to_string();
        assert!(err.contains("user first"), "{err}");
    }
}
