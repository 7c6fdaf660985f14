"""Demo publicity screens from the seed document: the office shows 法治宣传挂图 and
保密法 明白纸 on the screens in the building, and promotes the Tianjin civilised
behaviour regulations and smoke control. A lobby screen (landscape) and a canteen
screen (portrait) play them; the canteen shows its own cards at lunchtime. The main
playlist also shows the data screen (数据大屏) and runs a ticker of the report's goals."""

import io
from datetime import time
from pathlib import Path

from django.core.files.images import ImageFile

from wagtail.images import get_image_model

from PIL import Image, ImageDraw, ImageFont

from .models import Playlist, PlaylistEntry, PublicityItem, Screen, ScreenPlaylist

CJK_FONTS = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
]

# title, file name, colours (top, bottom), big word, lines under it
POSTERS = [
    (
        "宪法宣传挂图",
        "xianfa-poster.png",
        ((150, 20, 20), (200, 40, 30)),
        "宪法",
        ["宪法是国家的根本法", "尊崇宪法 学习宪法", "遵守宪法 维护宪法", "12月4日 国家宪法日"],
    ),
    (
        "民法典宣传挂图",
        "minfadian-poster.png",
        ((16, 50, 110), (30, 90, 160)),
        "民法典",
        ["社会生活的百科全书", "七编 一千二百六十条", "2021年1月1日起施行", "美好生活 民法典相伴"],
    ),
]

TEXT_CARDS = [
    (
        "保密法明白纸",
        "保密工作明白纸",
        [
            "涉密文件不得私自复制、留存",
            "涉密计算机严禁连接互联网",
            "不用普通手机谈论、传输涉密信息",
            "私人交往和通信中不涉及国家秘密",
            "涉密载体按规定登记、传递、销毁",
            "发现泄密隐患立即报告",
        ],
    ),
    (
        "天津市文明行为促进条例",
        "《天津市文明行为促进条例》",
        [
            "遵守公共秩序，排队礼让",
            "文明出行，礼让斑马线",
            "爱护环境，垃圾分类投放",
            "文明用餐，拒绝浪费",
            "文明上网，理性表达",
        ],
    ),
    (
        "机关控烟",
        "机关控烟 人人有责",
        [
            "办公楼内全面禁止吸烟",
            "会议室、走廊、楼梯间不吸烟",
            "不敬烟、不劝烟",
            "劝阻吸烟，从我做起",
        ],
    ),
]

QUOTATIONS = [
    (
        "宪法第五条",
        "中华人民共和国宪法",
        "中华人民共和国实行依法治国，建设社会主义法治国家。",
        "《中华人民共和国宪法》第五条第一款",
    ),
    (
        "民法典第三条",
        "中华人民共和国民法典",
        "民事主体的人身权利、财产权利以及其他合法权益受法律平等保护，任何组织或者个人不得侵犯。",
        "《中华人民共和国民法典》第三条",
    ),
]


DATA_SCREEN = ("学法数据大屏", 20)

# The main playlist's ticker: the report's goals for a rule-of-law government.
TICKER = [
    "职能科学、权责法定、执法严明、公开公正、廉洁高效、守法诚信",
    "区政府主要负责同志带头学法、带头讲法，在区政府常务会上讲法治课",
    "全面推进依法行政，为加快创建繁荣宜居智慧的现代化海滨城市提供有力法治保障",
]


def cjk_font_path():
    """The first installed font with Chinese glyphs, or None."""
    return next((path for path in CJK_FONTS if Path(path).exists()), None)


def draw_poster(colours, word, lines, size=(1200, 1700)):
    """A simple poster as PNG bytes. Without a CJK font it draws the same design
    without text rather than boxes where glyphs are missing."""
    width, height = size
    top, bottom = colours
    image = Image.new("RGB", size, top)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        share = y / height
        colour = tuple(int(a + (b - a) * share) for a, b in zip(top, bottom, strict=True))
        draw.line([(0, y), (width, y)], fill=colour)
    gold = (245, 210, 110)
    draw.rectangle([60, 60, width - 60, height - 60], outline=gold, width=8)
    draw.ellipse([width // 2 - 150, 180, width // 2 + 150, 480], outline=gold, width=10)
    draw.rectangle([120, height - 260, width - 120, height - 240], fill=gold)

    font_path = cjk_font_path()
    if font_path:
        big = ImageFont.truetype(font_path, 260)
        small = ImageFont.truetype(font_path, 72)
        draw.text(
            (width // 2, 330), "法", font=ImageFont.truetype(font_path, 200), fill=gold, anchor="mm"
        )
        draw.text((width // 2, 700), word, font=big, fill=(255, 255, 255), anchor="mm")
        for number, line in enumerate(lines):
            draw.text(
                (width // 2, 980 + number * 120),
                line,
                font=small,
                fill=(255, 255, 255),
                anchor="mm",
            )
    else:
        for number in range(len(lines)):
            draw.rectangle(
                [200, 960 + number * 120, width - 200, 990 + number * 120], fill=(255, 255, 255)
            )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _publish(item):
    """Save a new item with a published revision, as an organizer would."""
    item.live = False
    item.save()
    item.save_revision().publish()
    return item


def load_publicity_items():
    """Posters, text cards and quotations from the seed. Idempotent by title."""
    Image = get_image_model()
    created = 0
    for title, filename, colours, word, lines in POSTERS:
        if PublicityItem.objects.filter(title=title).exists():
            continue
        image = Image.objects.filter(title=title).first()
        if image is None:
            data = draw_poster(colours, word, lines)
            image = Image(title=title)
            image.file = ImageFile(io.BytesIO(data), name=filename)
            image.save()
        _publish(
            PublicityItem(title=title, kind=PublicityItem.Kind.POSTER, image=image, duration=12)
        )
        created += 1
    for title, headline, points in TEXT_CARDS:
        if not PublicityItem.objects.filter(title=title).exists():
            _publish(
                PublicityItem(
                    title=title,
                    kind=PublicityItem.Kind.TEXT_CARD,
                    headline=headline,
                    points="\n".join(points),
                    duration=20,
                )
            )
            created += 1
    for title, law, quote, citation in QUOTATIONS:
        if not PublicityItem.objects.filter(title=title).exists():
            _publish(
                PublicityItem(
                    title=title,
                    kind=PublicityItem.Kind.QUOTATION,
                    headline=law,
                    quote=quote,
                    citation=citation,
                    duration=15,
                )
            )
            created += 1
    title, duration = DATA_SCREEN
    if not PublicityItem.objects.filter(title=title).exists():
        _publish(PublicityItem(title=title, kind=PublicityItem.Kind.DATA_SCREEN, duration=duration))
        created += 1
    return created


# name, default?, item titles (the default playlist carries the ticker)
PLAYLISTS = [
    (
        "法治宣传轮播",
        True,
        [
            "宪法宣传挂图",
            "宪法第五条",
            "民法典宣传挂图",
            "民法典第三条",
            "保密法明白纸",
            "学法数据大屏",
            "天津市文明行为促进条例",
        ],
    ),
    ("食堂午餐时段", False, ["机关控烟", "天津市文明行为促进条例", "民法典宣传挂图"]),
]

# name, location, orientation, [(playlist, priority, starts_at, ends_at)]
SCREENS = [
    (
        "大厅电子屏",
        "区政府机关大楼一楼大厅",
        Screen.Orientation.LANDSCAPE,
        [("法治宣传轮播", 0, None, None)],
    ),
    (
        "食堂电子屏",
        "机关食堂入口",
        Screen.Orientation.PORTRAIT,
        [("食堂午餐时段", 10, time(11, 0), time(13, 30)), ("法治宣传轮播", 0, None, None)],
    ),
]


def load_screens():
    """The default playlist, the canteen's lunchtime playlist, and the two screens.
    Idempotent by name: existing playlists and screens are left as they are."""
    items = {item.title: item for item in PublicityItem.objects.all()}
    created = 0
    playlists = {}
    for name, is_default, titles in PLAYLISTS:
        playlist = Playlist.objects.filter(name=name).first()
        if playlist is None:
            is_default = is_default and not Playlist.objects.filter(is_default=True).exists()
            playlist = Playlist(
                name=name, is_default=is_default, ticker="\n".join(TICKER) if is_default else ""
            )
            playlist.entries = [
                PlaylistEntry(item=items[title], sort_order=n)
                for n, title in enumerate(titles)
                if title in items
            ]
            playlist.save()
            created += 1
        playlists[name] = playlist
    for name, location, orientation, assignments in SCREENS:
        if Screen.objects.filter(name=name).exists():
            continue
        screen = Screen(name=name, location=location, orientation=orientation)
        screen.playlist_assignments = [
            ScreenPlaylist(
                playlist=playlists[playlist],
                priority=priority,
                starts_at=starts,
                ends_at=ends,
                sort_order=n,
            )
            for n, (playlist, priority, starts, ends) in enumerate(assignments)
        ]
        screen.save()
        created += 1
    return created
