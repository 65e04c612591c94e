//! HTML text for the tables and lists the page builds as text (observability, the
//! comparison's summary, the presets' options): escaping, header rows, options. Pure, tested
//! natively.

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The presets as `<option>`s (in `<optgroup>`s by family when `grouped`), `selected` the
/// one marked so.
pub fn preset_options(selected: &str, grouped: bool) -> String {
    let mut out = String::new();
    let mut family = None;
    for p in bplab_engine::PRESETS {
        if grouped && family != Some(p.family) {
            if family.is_some() {
                out.push_str("</optgroup>");
            }
            out.push_str(&format!("<optgroup label=\"{}\">", esc(p.family.label())));
            family = Some(p.family);
        }
        let mark = if p.id == selected { " selected" } else { "" };
        out.push_str(&format!("<option value=\"{}\"{mark}>{}</option>", p.id, esc(p.title)));
    }
    if family.is_some() {
        out.push_str("</optgroup>");
    }
    out
}

/// A table's header row as HTML (`<thead>` content): one column header per name.
pub fn header_row(cols: &[&str]) -> String {
    let mut out = String::from("<tr>");
    for c in cols {
        out.push_str("<th scope=\"col\">");
        out.push_str(&esc(c));
        out.push_str("</th>");
    }
    out.push_str("</tr>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preset_options_list_every_preset_once_grouped_by_family_with_one_selected() {
        let id = bplab_engine::PRESETS[5].id;
        for grouped in [true, false] {
            let html = preset_options(id, grouped);
            assert_eq!(html.matches("<option ").count(), bplab_engine::PRESETS.len());
            assert_eq!(html.matches(" selected>").count(), 1);
            assert!(html.contains(&format!("<option value=\"{id}\" selected>")), "{html}");
            assert_eq!(html.matches("<optgroup ").count(), html.matches("</optgroup>").count());
            // Families come one after another: one group each.
            let mut families: Vec<_> = bplab_engine::PRESETS.iter().map(|p| p.family).collect();
            families.dedup();
            let mut labels: Vec<&str> = families.iter().map(|f| f.label()).collect();
            labels.sort_unstable();
            labels.dedup();
            assert_eq!(labels.len(), families.len(), "a family's presets are not together in PRESETS");
            assert_eq!(html.matches("<optgroup ").count(), if grouped { families.len() } else { 0 });
        }
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
    }

    #[test]
    fn header_rows_are_escaped_column_headers() {
        assert_eq!(header_row(&["where", "p<99"]), "<tr><th scope=\"col\">where</th><th scope=\"col\">p&lt;99</th></tr>");
    }
}
