//! Reading objects tagged with `kind` (`{kind = "aimd", ...}`) without losing where an error
//! is. serde's internally tagged enums buffer the whole object before looking at it, so an
//! error inside names only the object and no line; and buffering through a JSON value loses
//! TOML's `nan` and `inf`, which validation must see. Here the tag is read first and the
//! rest of the object goes straight to the variant's own type, from the document itself: an
//! error names the innermost field (its dotted path) and the format's position. Keys that
//! come before the tag are kept as read (floats exactly, `nan` and `inf` included) and
//! replayed first; an error in one of those names its key.

use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor};
use serde::forward_to_deserialize_any;
use std::fmt;
use std::marker::PhantomData;

/// Marks a key an error happened under, in an error message from a replayed key: the
/// message is `MARK key MARK message` (see [`split_marked`]).
pub const MARK: char = '\u{1}';

/// Splits a message made under a replayed key into (the key's dotted path, the message
/// without the marks). The marks may follow a prefix the format added (TOML's snippet).
pub fn split_marked(msg: &str) -> Option<(String, String)> {
    let (before, rest) = msg.split_once(MARK)?;
    let (key, tail) = rest.split_once(MARK)?;
    // Nested replays: `MARK a MARK MARK b MARK message`.
    Some(match split_marked(tail) {
        Some((inner, m)) => (format!("{key}.{inner}"), format!("{before}{m}")),
        None => (key.to_string(), format!("{before}{tail}")),
    })
}

/// A type read from an object tagged with `kind`.
pub trait Tagged: Sized {
    /// The tag's values, for "unknown variant" errors.
    const VARIANTS: &'static [&'static str];
    /// Reads the variant `tag` from the rest of the object.
    fn variant<'de, D: Deserializer<'de>>(tag: &str, rest: D) -> Result<Self, D::Error>;
}

/// Deserializes a [`Tagged`] type from a map with a `kind` key.
pub fn deserialize<'de, D: Deserializer<'de>, T: Tagged>(d: D) -> Result<T, D::Error> {
    d.deserialize_map(TaggedVisitor(PhantomData))
}

struct TaggedVisitor<T>(PhantomData<T>);

impl<'de, T: Tagged> Visitor<'de> for TaggedVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an object with a `kind` (one of {})", T::VARIANTS.join(", "))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut before: Vec<(String, Buf)> = Vec::new();
        loop {
            let Some(key) = map.next_key::<String>()? else { return Err(de::Error::missing_field("kind")) };
            if key == "kind" {
                let tag: String = map.next_value()?;
                if !T::VARIANTS.contains(&tag.as_str()) {
                    let e: de::value::Error = de::Error::unknown_variant(&tag, T::VARIANTS);
                    return Err(de::Error::custom(format!("{MARK}kind{MARK}{e}")));
                }
                let rest = Replay { before: before.into_iter(), pending: None, rest: map };
                return T::variant(&tag, de::value::MapAccessDeserializer::new(rest));
            }
            before.push((key, map.next_value()?));
        }
    }
}

/// The keys read before the tag, then the rest of the live map.
struct Replay<A> {
    before: std::vec::IntoIter<(String, Buf)>,
    pending: Option<(String, Buf)>,
    rest: A,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Replay<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        match self.before.next() {
            Some((k, v)) => {
                let key = seed.deserialize(k.clone().into_deserializer()).map_err(|e: de::value::Error| de::Error::custom(e))?;
                self.pending = Some((k, v));
                Ok(Some(key))
            }
            None => self.rest.next_key_seed(seed),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        match self.pending.take() {
            Some((k, v)) => seed.deserialize(v).map_err(|e| de::Error::custom(format!("{MARK}{k}{MARK}{e}"))),
            None => self.rest.next_value_seed(seed),
        }
    }
}

/// A value read ahead, kept as it was read (floats exactly, `nan` and `inf` included).
#[derive(Clone, Debug)]
pub enum Buf {
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    Str(String),
    Unit,
    Seq(Vec<Buf>),
    Map(Vec<(Buf, Buf)>),
}

impl<'de> de::Deserialize<'de> for Buf {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Buf, D::Error> {
        d.deserialize_any(BufVisitor)
    }
}

struct BufVisitor;

impl<'de> Visitor<'de> for BufVisitor {
    type Value = Buf;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Buf, E> {
        Ok(Buf::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Buf, E> {
        Ok(Buf::I64(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Buf, E> {
        Ok(Buf::U64(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Buf, E> {
        Ok(Buf::F64(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Buf, E> {
        Ok(Buf::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Buf, E> {
        Ok(Buf::Str(v))
    }
    fn visit_unit<E>(self) -> Result<Buf, E> {
        Ok(Buf::Unit)
    }
    fn visit_none<E>(self) -> Result<Buf, E> {
        Ok(Buf::Unit)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Buf, D::Error> {
        d.deserialize_any(BufVisitor)
    }
    fn visit_seq<S: de::SeqAccess<'de>>(self, mut s: S) -> Result<Buf, S::Error> {
        let mut v = Vec::new();
        while let Some(x) = s.next_element()? {
            v.push(x);
        }
        Ok(Buf::Seq(v))
    }
    fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<Buf, M::Error> {
        let mut v = Vec::new();
        while let Some((k, x)) = m.next_entry::<Buf, Buf>()? {
            v.push((k, x));
        }
        Ok(Buf::Map(v))
    }
}

impl<'de> IntoDeserializer<'de, de::value::Error> for Buf {
    type Deserializer = Buf;
    fn into_deserializer(self) -> Buf {
        self
    }
}

impl<'de> Deserializer<'de> for Buf {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        match self {
            Buf::Bool(b) => v.visit_bool(b),
            Buf::U64(n) => v.visit_u64(n),
            Buf::I64(n) => v.visit_i64(n),
            Buf::F64(x) => v.visit_f64(x),
            Buf::Str(s) => v.visit_string(s),
            Buf::Unit => v.visit_unit(),
            Buf::Seq(s) => v.visit_seq(SeqDeserializer::new(s.into_iter())),
            Buf::Map(m) => v.visit_map(MapDeserializer::new(m.into_iter())),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        match self {
            Buf::Unit => v.visit_none(),
            other => v.visit_some(other),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(self, _: &'static str, _: &'static [&'static str], v: V) -> Result<V::Value, Self::Error> {
        match self {
            Buf::Str(s) => v.visit_enum(s.into_deserializer()),
            other => other.deserialize_any(v),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

/// The tag and the rest of a tagged object, as an externally tagged enum's deserializer:
/// an enum derived without a tag (a twin of the tagged one) reads its variant `tag` from
/// `rest`, with the path and positions kept.
pub struct Variant<D> {
    tag: String,
    rest: D,
}

impl<D> Variant<D> {
    pub fn new(tag: &str, rest: D) -> Variant<D> {
        Variant { tag: tag.to_string(), rest }
    }
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Variant<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        v.visit_enum(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de, D: Deserializer<'de>> de::EnumAccess<'de> for Variant<D> {
    type Error = D::Error;
    type Variant = Rest<D>;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Rest<D>), D::Error> {
        let v = seed.deserialize(de::value::StringDeserializer::<D::Error>::new(self.tag))?;
        Ok((v, Rest(self.rest)))
    }
}

/// The rest of a tagged object, as an enum variant's content.
pub struct Rest<D>(D);

impl<'de, D: Deserializer<'de>> de::VariantAccess<'de> for Rest<D> {
    type Error = D::Error;

    fn unit_variant(self) -> Result<(), D::Error> {
        de::IgnoredAny::deserialize(self.0).map(|_| ())
    }
    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, D::Error> {
        seed.deserialize(self.0)
    }
    fn tuple_variant<V: Visitor<'de>>(self, len: usize, v: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple(len, v)
    }
    fn struct_variant<V: Visitor<'de>>(self, fields: &'static [&'static str], v: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_struct("", fields, v)
    }
}
