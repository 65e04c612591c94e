//! The small Markdown subset that lesson and challenge prose is written in, as HTML:
//! paragraphs (blank lines between), bulleted (`- `, `* `) and numbered (`1. `) lists,
//! `**strong**`, `*emphasis*` or `_emphasis_`, `` `code` `` and `[links](url)`.
//!
//! Everything else is text: the output escapes `<`, `>`, `&` and quotes, so prose can never
//! add markup of its own, and a link's address must be relative (`?preset=…`, `handbook/…`)
//! or `https:`/`http:`, else the link is written as its text alone. Written here rather
//! than taken from a Markdown crate: the page renders prose with it, and a full CommonMark
//! parser would cost the page's download tens of kilobytes for features lessons do not use.

/// `text` rendered as HTML (see the module's documentation).
pub fn to_html(text: &str) -> String {
    let mut out = String::new();
    // The open block: a paragraph or a list (ordered or not).
    let mut open: Option<&str> = None;
    let mut para = String::new();
    let close = |open: &mut Option<&str>, para: &mut String, out: &mut String| {
        match open.take() {
            Some("p") => {
                out.push_str("<p>");
                inline(para.trim(), out);
                out.push_str("</p>");
            }
            Some(list) => {
                out.push_str("</li></");
                out.push_str(list);
                out.push('>');
            }
            None => {}
        }
        para.clear();
    };
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() {
            close(&mut open, &mut para, &mut out);
            continue;
        }
        let item = list_item(t);
        match (item, open) {
            (Some((kind, rest)), Some(list)) if list == kind => {
                out.push_str("</li><li>");
                inline(rest, &mut out);
            }
            (Some((kind, rest)), _) => {
                close(&mut open, &mut para, &mut out);
                out.push('<');
                out.push_str(kind);
                out.push_str("><li>");
                inline(rest, &mut out);
                open = Some(kind);
            }
            // A continuation line of a list item.
            (None, Some(list)) if list != "p" => {
                out.push(' ');
                inline(t, &mut out);
            }
            (None, _) => {
                open = Some("p");
                para.push_str(t);
                para.push(' ');
            }
        }
    }
    close(&mut open, &mut para, &mut out);
    out
}

/// `- item`, `* item` (a bulleted list) or `12. item` (a numbered one).
fn list_item(t: &str) -> Option<(&'static str, &str)> {
    if let Some(rest) = t.strip_prefix("- ").or_else(|| t.strip_prefix("* ")) {
        return Some(("ul", rest));
    }
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    (digits > 0).then(|| t[digits..].strip_prefix(". ")).flatten().map(|rest| ("ol", rest))
}

/// Inline markup: code first (nothing inside it is markup), then links, strong, emphasis.
fn inline(t: &str, out: &mut String) {
    let mut rest = t;
    let mut prev = ' ';
    while let Some(c) = rest.chars().next() {
        let after = &rest[c.len_utf8()..];
        let done = match c {
            '`' => wrap(after, "`", "code", out, false),
            '*' if after.starts_with('*') => wrap(&after[1..], "**", "strong", out, true),
            // `_` inside a word (snake_case) is a letter, not emphasis.
            '*' | '_' if !(after.starts_with(' ') || c == '_' && prev.is_alphanumeric()) => {
                wrap(after, if c == '*' { "*" } else { "_" }, "em", out, true)
            }
            '[' => link(after, out),
            _ => None,
        };
        match done {
            Some(r) => rest = r,
            None => {
                escape(&rest[..c.len_utf8()], out);
                rest = after;
            }
        }
        prev = c;
    }
}

/// `<tag>…</tag>` up to the closing `mark`, or `None` when there is none.
fn wrap<'a>(t: &'a str, mark: &str, tag: &str, out: &mut String, nested: bool) -> Option<&'a str> {
    let end = t.find(mark).filter(|&e| e > 0)?;
    out.push('<');
    out.push_str(tag);
    out.push('>');
    if nested {
        inline(&t[..end], out);
    } else {
        escape(&t[..end], out);
    }
    out.push_str("</");
    out.push_str(tag);
    out.push('>');
    Some(&t[end + mark.len()..])
}

/// `[text](url)` after its `[`; an address that is not relative or http(s) keeps the text.
fn link<'a>(t: &'a str, out: &mut String) -> Option<&'a str> {
    let (text, rest) = t.split_once("](")?;
    let (url, rest) = rest.split_once(')')?;
    let url = url.trim();
    let scheme = url.split_once(':').map(|(s, _)| s).filter(|s| !s.contains(['/', '?', '#']));
    if matches!(scheme, None | Some("https") | Some("http")) && !url.is_empty() {
        out.push_str("<a href=\"");
        escape(url, out);
        out.push_str("\">");
        inline(text, out);
        out.push_str("</a>");
    } else {
        inline(text, out);
    }
    Some(rest)
}

/// Text as HTML: the five characters that could start markup or end an attribute.
pub fn escape(t: &str, out: &mut String) {
    for c in t.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::to_html;

    #[test]
    fn paragraphs_lists_and_inline_markup() {
        let md = "A **bold** and *soft* claim with `a<b>` code\nacross lines.\n\n- one [link](?preset=credits)\n- two\n  continued\n\n1. first\n2. second";
        assert_eq!(
            to_html(md),
            "<p>A <strong>bold</strong> and <em>soft</em> claim with <code>a&lt;b&gt;</code> code across lines.</p>\
             <ul><li>one <a href=\"?preset=credits\">link</a></li><li>two continued</li></ul>\
             <ol><li>first</li><li>second</li></ol>"
        );
    }

    #[test]
    fn prose_cannot_add_markup_or_script_links() {
        let html = to_html("<script>alert(1)</script> [x](javascript:alert(1)) [y](https://example.org/a?b=\"c\")");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains("<a href=\"https://example.org/a?b=&quot;c&quot;\">y</a>"), "{html}");
    }

    #[test]
    fn unmatched_marks_stay_text() {
        assert_eq!(to_html("2 * 3 = 6, a_b and `open"), "<p>2 * 3 = 6, a_b and `open</p>");
        assert_eq!(to_html("max_poll_records and _this_"), "<p>max_poll_records and <em>this</em></p>");
        assert_eq!(to_html("9,500 × 1 KiB ≈ **48.3 s**"), "<p>9,500 × 1 KiB ≈ <strong>48.3 s</strong></p>");
    }
}
