"""Phone numbers as Taiwan writes them: the digits a search matches, and one spelling of a
number however a sheet or a person typed it (+886, Excel's dropped zero, dashes)."""

import re


def digits_of(phone: str | None) -> str | None:
    """Phone digits only, so 0912-345-678, (09) 1234 5678 and +886912345678 all match."""
    if not phone:
        return None
    digits = re.sub(r"\D", "", phone)
    return digits or None


def normal_phone(value: object) -> str | None:
    """A phone as Taiwan writes it, so every spelling of one number is one key: +886 912-345-679,
    886912345679, 912345679 and 912345679.0 (Excel's number) become 0912345679, (02) 2345-6789
    becomes 0223456789; any other number its digits; None without digits."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        value = int(value) if value.is_integer() else value
    text = str(value).strip()
    if re.fullmatch(r"\+?[\d\s\-]+\.0+", text):
        text = text.split(".", 1)[0]  # a whole number that went through a spreadsheet
    digits = re.sub(r"\D", "", text)
    if not digits:
        return None
    if digits.startswith("886") and 8 <= len(digits) - 3 <= 10:
        rest = digits[3:]
        return rest if rest.startswith("0") else "0" + rest
    if len(digits) == 9 and digits.startswith("9"):
        return "0" + digits  # a mobile number whose leading zero a spreadsheet dropped
    return digits
