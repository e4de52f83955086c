package sms

// Phone is a Korean phone number normalized to digits in national form,
// e.g. "01012345678", "0212345678", "15881234". Build one with ParsePhone.
type Phone string
