from portal import audit

audit.register(
    {
        "multipurpose_token.issued": "A multipurpose email token or SMS OTP was issued",
        "multipurpose_token.consumed": "A multipurpose email token or SMS OTP was used",
    }
)
