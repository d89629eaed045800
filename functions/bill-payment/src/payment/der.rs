//! Just enough DER to find the SubjectPublicKeyInfo of an X.509 certificate
//! (RFC 5280: Certificate -> tbsCertificate -> [version], serialNumber,
//! signature, issuer, validity, subject, subjectPublicKeyInfo), without an
//! X.509 crate. Every read is bounds-checked: malformed input is `None`.

/// One TLV: (tag, header length, content length).
fn tlv(data: &[u8]) -> Option<(u8, usize, usize)> {
    let tag = *data.first()?;
    let first = *data.get(1)?;
    if first < 0x80 {
        return Some((tag, 2, usize::from(first)));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 4 {
        return None;
    }
    let mut len = 0usize;
    for b in data.get(2..2 + n)? {
        len = (len << 8) | usize::from(*b);
    }
    Some((tag, 2 + n, len))
}

/// The whole TLV at the start of `data`, and what follows it.
fn split(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let (_, head, len) = tlv(data)?;
    let end = head.checked_add(len)?;
    Some((data.get(..end)?, data.get(end..)?))
}

/// The contents of a SEQUENCE TLV.
fn contents(data: &[u8]) -> Option<&[u8]> {
    let (tag, head, len) = tlv(data)?;
    if tag != 0x30 {
        return None;
    }
    data.get(head..head.checked_add(len)?)
}

/// The tbsCertificate's fields from serialNumber on (the optional
/// `[0] EXPLICIT` version skipped).
fn tbs_from_serial(cert: &[u8]) -> Option<&[u8]> {
    let tbs = contents(contents(cert)?)?;
    if tbs.first() == Some(&0xa0) { Some(split(tbs)?.1) } else { Some(tbs) }
}

/// The DER SubjectPublicKeyInfo (the whole SEQUENCE) inside a certificate.
pub fn certificate_spki(cert: &[u8]) -> Option<&[u8]> {
    let mut rest = tbs_from_serial(cert)?;
    // serialNumber, signature, issuer, validity, subject.
    for _ in 0..5 {
        rest = split(rest)?.1;
    }
    let (spki, _) = split(rest)?;
    (spki.first() == Some(&0x30)).then_some(spki)
}

/// A certificate's serial number as WeChat Pay writes it in
/// `Wechatpay-Serial`: upper-case hex without the sign byte.
pub fn certificate_serial(cert: &[u8]) -> Option<String> {
    let (serial, _) = split(tbs_from_serial(cert)?)?;
    let (tag, head, _) = tlv(serial)?;
    if tag != 0x02 {
        return None;
    }
    let mut bytes = serial.get(head..)?;
    while bytes.len() > 1 && bytes.first() == Some(&0) {
        bytes = bytes.get(1..)?;
    }
    Some(bytes.iter().map(|b| format!("{b:02X}")).collect())
}

#[cfg(test)]
mod tests {
    use super::certificate_spki;

    #[test]
    fn garbage_and_truncated_input_are_none_not_panics() {
        assert_eq!(certificate_spki(&[]), None);
        assert_eq!(certificate_spki(&[0x30]), None);
        assert_eq!(certificate_spki(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), None);
        assert_eq!(certificate_spki(&[0x30, 0x03, 0x30, 0x01, 0x00]), None);
        assert_eq!(super::certificate_serial(&[0x30, 0x03, 0x30, 0x01, 0x00]), None);
    }
}
