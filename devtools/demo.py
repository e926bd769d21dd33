"""The demo shop: staff logins and about 200 customers with two years of history."""

import math
import random
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.models import Customer, CustomField, ReminderRule, Tag, User, UserGroup
from app.services import customers as customer_service
from app.services import reminders, segments
from app.services import tags as tag_service
from app.services import timeline as timeline_service
from app.services.accounts import create_user
from app.services.shop import ensure_shop, shop_context

DEMO_PASSWORD = "hearth-demo-1"
DEMO_STAFF = [
    ("owner@example.com", "林老闆 Lin", "owner"),
    ("desk@example.com", "陳小姐 Chen", "frontdesk"),
    ("teacher@example.com", "王老師 Wang", "teacher"),
]
DEMO_CUSTOMERS = 200

SURNAMES = "陳林黃張李王吳劉蔡楊許鄭謝郭洪曾邱廖賴周徐蘇葉莊呂江何蕭羅高潘簡朱鍾彭游詹胡施沈余盧梁趙顏柯翁魏孫戴"
GIVEN = [
    "小明",
    "東城",
    "怡君",
    "家豪",
    "雅婷",
    "冠宇",
    "宜蓁",
    "承恩",
    "子晴",
    "宥辰",
    "品妍",
    "柏翰",
    "詩涵",
    "宇軒",
    "欣妤",
    "采潔",
    "彥廷",
    "思妤",
    "俊傑",
    "心怡",
]
ENGLISH = [
    "Amy Chen",
    "Brian Lee",
    "Chloe Wu",
    "Daniel Lin",
    "Emma Huang",
    "Felix Chang",
    "Grace Liu",
    "Henry Tsai",
    "Ivy Yang",
    "Jason Hsu",
    "Kelly Cheng",
    "Leo Kuo",
]
TAGS = [
    ("VIP", "amber"),
    ("紅酒同好會", "purple"),
    ("競爭對手", "red"),
    ("潛在客戶", "blue"),
    ("二月品酒會", "pink"),
    ("已報名", "green"),
    ("三年級", "teal"),
    ("四年級", "indigo"),
    ("才藝班", "orange"),
    ("wine club", "brown"),
]
# The classes of the teacher's Today view (every child is in one), 10 to 25 children each
# like a real centre; the teacher has the first.
CLASSES = [
    ("向日葵班 Sunflowers", "amber"), ("星星班 Stars", "blue"), ("彩虹班 Rainbows", "purple"),
    ("海豚班 Dolphins", "teal"), ("小熊班 Bears", "brown"), ("蘋果班 Apples", "red"),
    ("企鵝班 Penguins", "indigo"), ("月亮班 Moons", "green"), ("森林班 Forest", "grey"),
]  # fmt: skip
CLASS_SIZES = (22, 18, 25, 20, 24, 21, 23, 25, 22)
# Two children with one name, in two classes, as every centre has (the other is number 92):
# told apart by class, birthday month and the colour of their initial.
SAME_NAME = ("梁雅婷", (3,))
# Alert keywords that mean the same thing, counted as one on the owner's summary.
DEMO_SYNONYMS = [
    "花生 = peanut = 土豆",
    "海鮮 = shellfish",
    "奶 = milk",
    "氣喘 = asthma",
    "蛋奶素 = vegetarian",
    "靠窗 = window seat",
]
ALERTS = [
    ("allergy", "花生, peanut", "對花生過敏，點心請避開花生與花生醬。"),
    ("allergy", "海鮮, shellfish", "Shellfish allergy — no shrimp crackers."),
    ("diet", "蛋奶素, vegetarian", "全家蛋奶素，午餐請準備素食便當。"),
    ("medical", "氣喘, asthma", "Asthma: inhaler in the front pocket of the school bag."),
    ("preference", "靠窗, window seat", "喜歡坐靠窗的位子。"),
    ("allergy", "奶, milk", "乳糖不耐，點心換成豆漿。"),
]
NOTES = [
    "今天數學作業全對，很開心。",
    "媽媽來接時提到最近睡不好，請多留意。",
    "Read aloud for 10 minutes without help today.",
    "和同學分享了自己帶的水果。",
    "家長詢問寒假營隊的時間，已提供簡章。",
    "Forgot the homework notebook; called home.",
    "作文比賽得到佳作，已在聯絡簿表揚。",
    "下午有點發燒，已通知家長提早接回。",
    "Asked about the piano class schedule for next term.",
    "生日快到了，想要恐龍主題的小卡片。",
    "英文單字小考進步很多。",
    "爸爸說下週三由阿嬤接送。",
]
CALLS = [
    "與媽媽電話聯絡，確認下週請假。",
    "Called dad about the field trip form.",
    "回電家長說明成績單。",
]
VISITS = [
    "參加了週六才藝班。",
    "Came to the open day with both parents.",
    "寒假營隊第一天，適應良好。",
]
PURCHASES = ["購買寒假營隊 (NT$6,800)。", "Bought the workbook set.", "繳交下學期學費。"]
TEACHERS_WORDS = [
    "東城這學期很認真，數學進步很多。",
    "小明很照顧低年級的同學，是大家的好榜樣。",
    "Reads every day and loves dinosaur books.",
    "上課專心，作業整齊，繼續加油！",
]

# What each kind of shop writes: a homestay's demo speaks of guests, rooms and breakfasts,
# never of classes, homework or parents (issue 23).
DEMO_WORDS = {
    "afterschool": {
        "tags": TAGS,
        "classes": CLASSES,
        "alerts": ALERTS,
        "notes": NOTES,
        "calls": CALLS,
        "visits": VISITS,
        "purchases": PURCHASES,
        "field": ("teachers_words", "老師的話 Teacher's words", TEACHERS_WORDS),
        "family": ("{surname}媽媽", "母親", "parent"),
        "date": "入學日 Enrolment",
        "summaries": ["", "喜歡畫畫", "Loves football", "數學小天才", "個性安靜，需要多鼓勵"],
        "today_note": "今天午睡很安穩，下午完成美勞作品。",
        "carer": "王老師 Wang",
    },
    "homestay": {
        "tags": [("VIP", "amber"), ("紅酒同好會", "purple"), ("競爭對手", "red"),
                 ("潛在客戶", "blue"), ("二月品酒會", "pink"), ("回頭客", "green"),
                 ("親子家庭", "teal"), ("單車旅人", "indigo"), ("蜜月", "orange"),
                 ("wine club", "brown")],
        "classes": [],
        "alerts": [
            ("allergy", "花生, peanut", "對花生過敏，早餐與點心請避開花生。"),
            ("allergy", "海鮮, shellfish", "Shellfish allergy — no seafood at breakfast."),
            ("diet", "蛋奶素, vegetarian", "全家蛋奶素，早餐請準備素食。"),
            ("medical", "氣喘, asthma", "Asthma: no feather pillows, a smoke-free room."),
            ("preference", "靠窗, window seat", "喜歡靠窗、看得到海的房間。"),
            ("allergy", "奶, milk", "乳糖不耐，早餐的牛奶換成豆漿。"),
        ],
        "notes": [
            "詢問明年春天家庭房的價格。",
            "帶了自家做的鳳梨酥給我們，很貼心。",
            "Asked for a late check-out on Sunday.",
            "早餐希望少油少鹽。",
            "結婚十週年，已在房間放了小卡片。",
            "Loved the sunrise from the sea-view room.",
            "詢問附近的單車路線，已提供地圖。",
            "小朋友很喜歡院子裡的狗狗。",
            "Booked the tatami room again for the family trip.",
            "雨天取消了行程，改訂下個月。",
            "入住時提到想要加一張床。",
            "朋友推薦來的，第一次入住。",
        ],
        "calls": [
            "來電確認下週的訂房與訂金。",
            "Called to ask about parking for two cars.",
            "回電說明取消訂房的規定。",
        ],
        "visits": [
            "入住海景雙人房兩晚。",
            "Stayed two nights with the whole family.",
            "週末入住，加購兩份早餐。",
        ],
        "purchases": ["加購早餐兩份 (NT$500)。", "Bought two boxes of tea as gifts.", "租借單車半天。"],
        "field": ("breakfast", "早餐偏好 Breakfast", [
            "中式稀飯，不要香菜。", "西式早餐，咖啡不加糖。", "Vegetarian breakfast, no eggs.",
            "早餐晚一點，九點以後。",
        ]),
        "family": ("{surname}太太", "配偶", "partner"),
        "date": "結婚紀念日 Anniversary",
        "summaries": ["", "喜歡安靜的房間", "Cycling enthusiast", "每年春天都來",
                      "帶長輩出遊，需要一樓房間"],
        "today_note": "下午三點抵達，已準備好加床與嬰兒床。",
        "carer": "王阿姨 Wang",
    },
}  # fmt: skip


def _birthday(rng: random.Random, today: date) -> date:
    start = date(today.year - 12, 1, 1)
    return start + timedelta(days=rng.randrange(365 * 6))


def seed_demo(
    session: Session,
    *,
    password_method: str = "scrypt",
    customers: int = DEMO_CUSTOMERS,
    kind: str = "afterschool",
) -> None:
    """Creates the demo shop (an after-school centre, or a homestay); safe to call twice
    (staff kept, customers only seeded once)."""
    shop = ensure_shop(session)
    shop.name = "山嵐民宿 Mountain Mist" if kind == "homestay" else "小森林安親班 Little Forest"
    shop.kind = kind
    shop.timezone = "Asia/Taipei"
    shop.default_locale = "zh_Hant"
    shop.sender_address = "hello@example.com"
    shop.alert_synonyms = list(DEMO_SYNONYMS)
    staff = []
    for email, name, role in DEMO_STAFF:
        name = DEMO_WORDS[kind]["carer"] if role == "teacher" else name
        user = session.scalar(sa.select(User).where(User.email == email))
        if user is None:
            user = create_user(
                session,
                email=email,
                name=name,
                role=role,
                password=DEMO_PASSWORD,
                hash_method=password_method,
            )
        staff.append(user)
    session.flush()
    if customers and not session.scalar(sa.select(sa.func.count()).select_from(Customer)):
        _seed_customers(session, staff, customers, kind)
        _seed_records(session, staff, kind)


DEMO_PRODUCTS = {
    "homestay": [("早餐加購", 250, 5), ("伴手禮 茶葉禮盒", 1200, 30), ("單車租借", 300, 5),
                 ("導覽行程", 800, 20), ("手工果醬", 320, 5)],
    "afterschool": [("寒假營", 8000, 100), ("作文班", 2800, 50), ("英文繪本", 450, 8),
                    ("鋼琴課", 3200, 60), ("教材費", 600, 10)],
}  # fmt: skip


def _seed_records(session: Session, staff: list[User], kind: str) -> None:
    """Dated records: purchases in both kinds; rooms and two years of stays (returning
    guests, arrivals and departures today) in a homestay; enrolment and today's attendance
    in an after-school centre."""
    from app.services import attendance, purchases, stays

    rng = random.Random(13)
    today = shop_context(session).today  # arrivals and attendance are for the shop's day
    desk = staff[1]
    everyone = list(session.scalars(sa.select(Customer).order_by(Customer.id)))
    products = [
        purchases.save_product(session, None, name=name, price=price, points=points)
        for name, price, points in DEMO_PRODUCTS[kind]
    ]
    for customer in everyone:
        for _ in range(rng.randrange(0, 4)):
            purchases.add_purchase(
                session, customer, product=rng.choice(products),
                day=today - timedelta(days=rng.randrange(700)), quantity=rng.randint(1, 3),
                actor=desk, today=today,
            )  # fmt: skip
    if kind == "homestay":
        rooms = [stays.save_room(session, None, name)
                 for name in ("海景雙人房", "山景雙人房", "家庭四人房", "和室通鋪")]  # fmt: skip
        for offset, customer in enumerate(everyone[:6]):
            arriving = offset < 3
            check_in = today if arriving else today - timedelta(days=2)
            stays.save_stay(
                session, customer, None,
                {"room_id": rooms[offset % len(rooms)].id, "check_in": check_in,
                 "check_out": check_in + timedelta(days=2),
                 "status": "booked" if arriving else "stayed", "adults": 2, "amount": 6400},
                actor=desk, today=today,
            )  # fmt: skip
        for number, customer in enumerate(everyone):
            visits = 1 + (number % 4 == 0) * rng.randrange(1, 5)  # a quarter come back
            for _ in range(visits):
                check_in = today - timedelta(days=rng.randrange(3, 730))
                nights = rng.choice((1, 1, 2, 2, 3))
                values = {
                    "room_id": rng.choice(rooms).id, "check_in": check_in,
                    "check_out": check_in + timedelta(days=nights),
                    "status": rng.choice(("stayed",) * 8 + ("cancelled", "no_show")),
                    "adults": 2, "children": rng.randrange(3), "amount": 3200 * nights,
                    "deposit": 1000, "source": rng.choice(("電話", "Booking.com", "LINE")),
                }  # fmt: skip
                try:
                    stays.save_stay(session, customer, None, values, actor=desk, today=today)
                except stays.StayError:
                    continue  # that room was taken those nights: no room is booked twice
        _seed_booking_desk(session, rooms, everyone, desk, today)
        return
    for customer in everyone:
        attendance.enrol(session, customer, group="", starts_on=today - timedelta(days=200),
                         weekdays="12345")  # fmt: skip
    _seed_roll(session, everyone, desk, today, rng)


ROLL_WORDS = {"arrived": "%(time)s 到班", "picked_up": "%(time)s 由 %(who)s 接回",
              "absent": "請假", "not_listed": "（不是登記的家長）"}  # fmt: skip


def _seed_roll(session: Session, everyone, desk: User, today: date, rng) -> None:
    """Today's roll in the other classes (the teacher's own starts empty): most children
    here, a few absent (some without a reason), the rest still expected."""
    from app.services import attendance
    from app.services import groups as group_service

    shop = ensure_shop(session)
    if today.isoweekday() > 5:
        return
    classes = group_service.class_of(session, shop, [customer.id for customer in everyone])
    first = CLASSES[0][0]
    for customer in everyone:
        if classes.get(customer.id, first) == first:
            continue
        luck = rng.random()
        if luck < 0.7:
            attendance.check_in(session, customer, today, actor=desk, zone=shop.timezone,
                                words=ROLL_WORDS)  # fmt: skip
        elif luck < 0.8:
            reason = rng.choice(["", "", "感冒", "家庭旅遊"])
            attendance.mark_absent(session, customer, today, reason=reason, actor=desk,
                                   zone=shop.timezone, words=ROLL_WORDS)  # fmt: skip


ROOM_RATES = {  # weekday, weekend, holiday, extra bed, child (NT$ a night)
    "海景雙人房": (3200, 3800, 4500, 800, 500),
    "山景雙人房": (2800, 3400, 4000, 800, 500),
    "家庭四人房": (4800, 5600, 6500, 800, 500),
    "和室通鋪": (6000, 7200, 8000, 0, 400),
}


def _seed_booking_desk(session: Session, rooms, everyone, desk: User, today: date) -> None:
    """A homestay's booking desk as it runs: rates, deposit terms and the shop's account, a
    long weekend, bookings ahead (one deposit paid with its five digits, one late), a room
    closed for repairs and a night a booking site has taken."""
    from app.models import RoomBlock
    from app.services import booking_money, stays
    from app.services.booking_money.rates import RATE_FIELDS

    for room in rooms:
        prices = dict(zip(RATE_FIELDS, ROOM_RATES[room.name], strict=True))
        booking_money.save_rate(session, room, prices)
    booking_money.save_terms(session, {
        "deposit_percent": 30, "deposit_due_days": 3, "bank_name": "台灣銀行 花蓮分行",
        "bank_account": "012-345-678901", "account_name": "海風民宿 王小明",
    })  # fmt: skip
    booking_money.add_holiday(session, today + timedelta(days=40), "連假")
    ahead = []
    for offset, (customer, days) in enumerate(zip(everyone[6:9], (12, 26, 4), strict=False)):
        room = rooms[offset % len(rooms)]
        check_in = today + timedelta(days=days)
        try:
            ahead.append(stays.save_stay(session, customer, None, {
                "room_id": room.id, "check_in": check_in, "check_out": check_in + timedelta(days=2),
                "status": "booked", "adults": 2, "amount": 2 * ROOM_RATES[room.name][0],
                "source": "電話",
            }, actor=desk, today=today - timedelta(days=7)))  # fmt: skip
        except stays.StayError:
            continue
    if ahead:
        booking_money.record_payment(session, ahead[0], {
            "kind": "deposit", "method": "transfer", "paid_on": today - timedelta(days=2),
            "amount": ahead[0].amount * 30 // 100, "account_last5": "54321",
        }, actor=desk, today=today)  # fmt: skip
    session.add_all([
        RoomBlock(room_id=rooms[3].id, starts_on=today + timedelta(days=8),
                  ends_on=today + timedelta(days=10), kind="closed", note="換榻榻米",
                  created_by_id=desk.id),
        RoomBlock(room_id=rooms[1].id, starts_on=today + timedelta(days=15),
                  ends_on=today + timedelta(days=17), kind="ota",
                  uid="demo-1@booking.com", note="Booking.com"),
    ])  # fmt: skip
    session.flush()


def _seed_tags(session: Session, demo: dict, teacher: User) -> tuple[list[Tag], list[Tag]]:
    """The shop's tags, and an after-school centre's classes (the teacher has the first)."""
    tags = [
        tag_service.get_or_create_tag(session, name, colour)[0] for name, colour in demo["tags"]
    ]
    classes = [
        tag_service.get_or_create_tag(session, name, colour)[0] for name, colour in demo["classes"]
    ]
    for tag in classes:
        tag.is_group = True
    if classes:
        teacher.group_links = [UserGroup(tag=classes[0])]
    return tags, classes


def _demo_name(number: int, demo: dict) -> tuple[str, str, str]:
    """The demo's names: distinct (surname × given name, English first × last name), but for
    one pair of namesakes; (name, nickname, guardian)."""
    if number % 5 == 4:
        index = number // 5
        first = ENGLISH[index % len(ENGLISH)].split()[0]
        last = ENGLISH[(index + index // len(ENGLISH)) % len(ENGLISH)].split()[1]
        return f"{first} {last}", first, f"{last} family"
    surname = SURNAMES[number % len(SURNAMES)]
    # Every (surname, given) pair comes round again after lcm(50, 20) = 100 children: shift
    # the given name each round so a centre of 200 has one name per child.
    rounds = number // math.lcm(len(SURNAMES), len(GIVEN))
    given = GIVEN[(number * 7 + rounds) % len(GIVEN)]
    if number in SAME_NAME[1]:
        surname, given = SAME_NAME[0][0], SAME_NAME[0][1:]
    return surname + given, given, demo["family"][0].format(surname=surname)


def _class_index(number: int, classes: int) -> int:
    """Children fill the classes in turn (sizes from CLASS_SIZES), so a class's children are
    of one block of numbers; more children than the sizes hold go round again."""
    sizes = CLASS_SIZES[:classes]
    number %= sum(sizes)
    for index, size in enumerate(sizes):
        if number < size:
            return index
        number -= size
    return 0


def _seed_customers(session: Session, staff: list[User], count: int, kind: str) -> None:
    demo = DEMO_WORDS[kind]
    rng = random.Random(2026)
    now = utcnow()
    today = now.date()
    field_key, field_label, field_values = demo["field"]
    words = session.scalar(sa.select(CustomField).where(CustomField.key == field_key))
    if words is None:
        words = CustomField(key=field_key, label=field_label, position=1)
        session.add(words)
        session.flush()
    owner, desk, teacher = staff
    tags, classes = _seed_tags(session, demo, teacher)
    for number in range(count):
        name, nickname, guardian = _demo_name(number, demo)
        created = now - timedelta(days=rng.randrange(730), hours=rng.randrange(24))
        customer = customer_service.create_customer(
            session,
            {
                "display_name": name,
                "nickname": nickname,
                "level": rng.choice("AABBBCC"),
                "birthday": _birthday(rng, today),
                "phone": f"09{rng.randrange(10, 99)}-{rng.randrange(100, 999)}-{rng.randrange(100, 999)}",
                "email": f"family{number + 1}@example.com" if number % 9 else None,
                "postal_address": f"台北市大安區和平東路{rng.randrange(1, 300)}號"
                if number % 3
                else None,
                "preferred_channel": rng.choice(["email", "phone", "line", "in_person"]),
                "summary": rng.choice(demo["summaries"]),
                "assigned_user_id": rng.choice([desk.id, teacher.id, None]),
            },
            actor=owner,
            consent={"service", "marketing"} if number % 7 else {"service"},
            consent_method=rng.choice(["paper", "in_person", "online"]),
            custom_values={words.id: rng.choice(field_values)} if number % 2 == 0 else None,
        )
        customer.created_at = created
        customer_service.add_family_member(
            session,
            customer,
            {
                "name": guardian,
                "relation": demo["family"][1 if number % 5 != 4 else 2],
                "phone": customer.phone,
                "email": customer.email,
                "is_guardian": True,
            },
        )
        if kind == "afterschool" and number % 3 == 0:  # a grandmother who may pick up
            customer_service.add_family_member(session, customer, {
                "name": name[0] + "阿嬤" if not name.isascii() else "Grandma " + name.split()[-1],
                "relation": "祖母", "can_pick_up": True,
            })  # fmt: skip
        if number % 6 == 0:
            customer_service.add_important_date(session, customer, demo["date"], created.date())
        classroom = [classes[_class_index(number, len(classes))]] if classes else []
        for tag in rng.sample(tags, rng.randrange(0, 4)) + classroom:
            tag_service.stick(session, customer, tag, actor=desk)
        moments = sorted(
            created + timedelta(seconds=rng.randrange(int((now - created).total_seconds()) or 1))
            for _ in range(rng.randrange(2, 14))
        )
        for moment in moments:
            entry_kind = rng.choice(["note", "note", "note", "call", "visit", "purchase"])
            text = rng.choice(demo[{"note": "notes", "call": "calls", "visit": "visits",
                                    "purchase": "purchases"}[entry_kind]])  # fmt: skip
            author = rng.choice([desk, teacher, teacher, owner])
            timeline_service.add_entry(
                session, customer, author=author, kind=entry_kind, body=text, created_at=moment
            )
        if number % 8 == 0:
            category, keywords, body = demo["alerts"][(number // 8) % len(demo["alerts"])]
            # Peanut allergies arrive this month: the owner's summary shows the rise.
            days_ago = (
                rng.randrange(max(1, min(today.day - 1, 20)))
                if "花生" in keywords
                else rng.randrange(60)
            )
            timeline_service.add_alert(
                session,
                customer,
                author=teacher,
                category=category,
                keywords=keywords,
                body=body,
                created_at=now - timedelta(days=days_ago, hours=rng.randrange(3)),
            )
    # A few notes from today, so the shop feed and "what happened today" are not empty.
    first = session.scalars(sa.select(Customer).order_by(Customer.id).limit(5)).all()
    for customer in first:
        timeline_service.add_entry(
            session,
            customer,
            author=teacher,
            kind="note",
            body=demo["today_note"],
            created_at=now - timedelta(minutes=rng.randrange(30, 300)),
        )
    session.flush()
    _seed_reminder_rules(session, tags[0], desk)


def _seed_reminder_rules(session: Session, vip: Tag, desk: User) -> None:
    """Three rules a shop would start with, evaluated once so the worklists are not empty."""
    rules = [
        ReminderRule(name="生日卡 Birthday card", kind="birthday", days=7, include_family=False,
                     action="寄生日卡 Send a birthday card"),
        ReminderRule(name="VIP 兩週未聯絡 VIP not contacted", kind="no_contact", days=15,
                     tag_id=vip.id, assignee_id=desk.id, action="打個電話問候 Give them a call"),
        ReminderRule(name="想念您 We miss you", kind="lapsed", days=180, levels=["A", "B"],
                     action="寄「想念您」信 Send a we-miss-you note"),
    ]  # fmt: skip
    session.add_all(rules)
    session.flush()
    context = segments.Context(now=utcnow(), zone=ensure_shop(session).timezone)
    for rule in rules:
        reminders.run_rule(session, rule, context)
