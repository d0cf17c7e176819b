"""Wallets, ranges and clocks the Allium tests and their cassettes share.

The two documented wallets come from Allium's documents (the balances example and the
holdings example); the others are made-up but well-formed addresses.
"""

from __future__ import annotations

from datetime import UTC, datetime

#: The Solana wallet of Allium's balances-history example.
SOL_WALLET = "125Z6k4ZAxsgdG7JxrKZpwbcS1rxqpAeqM9GSCKd66Wp"
#: The Ethereum wallet of Allium's holdings-history example.
ETH_WALLET = "0x8e0e6fbaf18f209916bb7c5960a70d6bb5760938"
#: The Ethereum wallet of Allium's PayloadAddress example.
ETH_WALLET_2 = "0xab16781a13fe343a275f4bb5c883a64ceda52917"
#: A Solana wallet that holds nothing.
EMPTY_SOL_WALLET = "2SRXj237BcHvqk759VsxErR2nvZiTa8GuuP5ZiCB9vV1"

#: Seventeen Solana wallets: one request of 15 and one of 2.
SOL_WALLETS_17 = (
    "9LczV86TX5r57uwzLqV41pe6LCdVN3Nj5cFAKUjXAuip",
    "38GWxu4Npsz1f3g9RdKf9xiHrPkKdD8zqChJyRCpsQKp",
    "7WgGYcjwyubETwUNdhakags64qQeSXhiUui2mnXTa7Eg",
    "DzhLs9KuR82KgS32etYPidCZbmXhMmb88NHuAwLy37Nm",
    "2B9sAk9QGyZNPhX48UQuz9vQNPqyjCcaBsJCvqCBsVaB",
    "3ur11kVYV8A1n5qnc2qiSH7zajU4bSHwGAwZJpthvcpr",
    "CHsJYk83QxY4JqkMVwcjmqjFBrDpctux5wg3wXGn4K2G",
    "6mAhSmhRaeGiHpKwazbCx9BSM6tvJRXStTukY6z8YDr8",
    "6hMfVZ5Chhn55BCjnQVbkhg927bE9NUSBM2TxQjmwdVg",
    "4srfR6gsAJpfXwZzkitxBtwTn23XfJmbgbctRqvkR7qB",
    "BxaCUowM4vWHatgMmmGf9ivqpSgwFnm6qWyATnGWFXSL",
    "4iQWRjG2d3e4wsNToHdhxwAntkX2CGLi2xhrkKvvMzmj",
    "GkWNhYgWvcV2pDrckgtwdobCgbdHx1zGYYB6zRuxmahy",
    "EnNgTrkm1o1RxsT2WskEHCvTPgKLrQiqdb3hCn9ZTMyh",
    "4mDNEzLkR9wAHgUXYtr9KMnDkmwpfdKRQtUZKrBvDer7",
    "3peHXLnbKXiJKBgmURAeaYgBcQCfL2t7KGCdiJ584JCu",
    "BZHMUM2Udyg3y59739ctRkW8b5doqdZDwZddCCfnYh2A",
)
#: Seventeen Ethereum wallets: one request of 15 and one of 2.
ETH_WALLETS_17 = (
    "0x4d34d77a235db84c3a03c12f2ef839cf305373b6",
    "0x6933965ca74bdb3fb5a70435c51e3451ea55a16c",
    "0xc4c0cede49ae74973d9ccb6cff5f542905c74a47",
    "0x3d39b547bc564b4c106daa4b311c5ece0db775b1",
    "0x293987bc955c054f844b66cc6c88f0063c2b8a3c",
    "0x98cd9545c4dff715a4d2701e88c42c64fb6c172a",
    "0xe71917908d76e80b0eabdaddf1ef0d604a169d01",
    "0x671752b0649f45797d83fff06e2e3398dbd48181",
    "0xaa72e45b05a986d9afe6e85cb38553abda36a17a",
    "0x6b836c696e69772382bdf2d7daad90a02d53c7c9",
    "0x0b8e950e9b4c036dab2e9cf402a3fb3fe1545519",
    "0xe2fe35ec998f4a626d0f53036bc17fbc650fd810",
    "0xc85d67edfab4561131dd1d0a0781ac5ee79dbb82",
    "0xdb36b2fac6d4e8e25bc0ca43b15e31d5d06ae283",
    "0xdd57b7c41d29c5cb4fc5bd4c173ad184446c2da0",
    "0xbba5354d7f2ab4404f4e18692a4a40dc4af99058",
    "0x940b0d3d1ac04f0502b9adf8482ba84270eceb24",
)

USDC_SOL = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
BONK = "DezXAZ8z7PnrnRJjz3wXBoRgixCa6xjnB7YaB1pPB263"
USDC_ETH = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"
SHIB = "0x95ad61b0a150d79219dcf64e1e6cc01f0b64c4ce"
WETH = "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"
#: Two token accounts of SOL_WALLET holding USDC.
USDC_ACCOUNT_1 = "7fUAJdStEuGbc3sM84cKRL6yYaaSstyLSU4ve5oovLS7"
USDC_ACCOUNT_2 = "HBnMgc1NX9SRspBEPALCfGyHR7K8khHEJvYLTKSBXDrU"

#: "Now" for the balance-history tests: the day after Allium's documented range.
BALANCES_NOW = datetime(2025, 4, 2, tzinfo=UTC)
#: The documented balances range: 2025-04-01 12:00 to 13:00 UTC.
BALANCES_START = datetime(2025, 4, 1, 12, tzinfo=UTC)
BALANCES_END = datetime(2025, 4, 1, 13, tzinfo=UTC)

#: "Now" for the holdings tests: the morning after the documented example's last point.
HOLDINGS_NOW = datetime(2026, 4, 13, 6, tzinfo=UTC)
