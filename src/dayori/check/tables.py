"""Word lists behind the rules, with where they come from (「公用文作成の考え方」(2022) unless noted)."""

from __future__ import annotations

JOYO_2010 = frozenset(
    "挨曖宛嵐畏萎椅彙茨咽淫唄鬱怨媛艶旺岡臆俺苛牙瓦楷潰諧崖蓋骸柿顎葛釜鎌韓玩伎亀毀畿臼嗅巾僅錦惧串窟熊詣憬稽"
    "隙桁拳鍵舷股虎錮勾梗喉乞傲駒頃痕沙挫采塞埼柵刹拶斬恣摯餌鹿𠮟嫉腫呪袖羞蹴憧拭尻芯腎須裾凄醒脊戚煎羨腺詮箋膳"
    "狙遡曽爽痩踪捉遜汰唾堆戴誰旦綻緻酎貼嘲捗椎爪鶴諦溺塡妬賭藤瞳栃頓貪丼那奈梨謎鍋匂虹捻罵剝箸氾汎阪斑眉膝肘訃"
    "阜蔽餅璧蔑哺蜂貌頰睦勃昧枕蜜冥麺冶弥闇喩湧妖瘍沃拉辣藍璃慄侶瞭瑠呂賂弄籠麓脇"
)
"""The 196 kanji added to the 常用漢字表 in 2010: words like 進ちょく were written half in kana only because
these were not in the table before; 公用文 now writes them in kanji (進捗, 破綻, 隠蔽)."""

KANJI_IN_KANA = {
    "進ちょく": "進捗", "破たん": "破綻", "隠ぺい": "隠蔽", "払しょく": "払拭", "親せき": "親戚", "危ぐ": "危惧",
    "明りょう": "明瞭", "処方せん": "処方箋", "便せん": "便箋", "補てん": "補塡", "装てん": "装塡", "失そう": "失踪",
    "覚せい": "覚醒", "謙そん": "謙遜", "容ぼう": "容貌", "誘かい": "誘拐", "はん用": "汎用", "とん挫": "頓挫",
    "完ぺき": "完璧", "がい然": "蓋然", "すき間": "隙間", "ちょう付": "貼付", "は握": "把握",
}
"""交ぜ書き of words whose kanji are all 常用: write them in kanji. (改ざん, 漏えい stay: 竄 and 洩 are not 常用.)"""

FORMAL_AFTER_PREDICATE = {"事": "こと", "訳": "わけ", "筈": "はず", "為": "ため", "時": "", "所": ""}
"""Formal nouns after a verb or adjective are written in kana (「確認する事」→「確認すること」). 時 and 所
are left alone: 「締切の時」「作業する所」 are often real time and place."""

KANA_WORDS = {
    "但し": "ただし", "尚": "なお", "即ち": "すなわち", "且つ": "かつ", "所謂": "いわゆる", "予め": "あらかじめ",
    "殆ど": "ほとんど", "敢えて": "あえて", "先ず": "まず", "宜しく": "よろしく", "概ね": "おおむね",
    "流石": "さすが", "沢山": "たくさん", "何故": "なぜ", "色々": "いろいろ", "様々": "さまざま",
}
"""Conjunctions and adverbs 公用文 writes in kana."""

AUXILIARY_VERBS = {"頂く": ("頂", "いただ"), "下さる": ("下さ", "くださ"), "致す": ("致", "いた"),
                   "居る": ("居", "い"), "出来る": ("出来", "でき"), "有る": ("有", "あ"), "無い": ("無", "な")}
"""Verbs written in kana when they help another word (「確認して頂く」→「確認していただく」); 出来る, 有る
and 無い are written in kana in every use by 公用文."""

CONJUNCTIONS = {"及び": "および", "並びに": "ならびに", "又は": "または", "若しくは": "もしくは"}
"""公用文 and 法令 write these in kanji (通知); in 広報 the kana forms are easier to read and are usual."""

PROFILES = ("広報", "通知")

COUNTERS = ("円", "人", "件", "個", "枚", "台", "本", "回", "名", "通", "部", "点", "社", "字", "文字", "行",
            "ページ", "時間", "日間", "か月", "世帯", "万", "億", "兆", "km", "kg", "m", "MB", "GB", "KB", "kB",
            "px", "ピクセル", "語", "問", "ファイル", "人分", "票", "箇所", "か所")
"""Units after which a number of 4 digits or more is an amount: 3 桁ごとにコンマで区切る (公用文)."""

STYLE_STOPWORDS = frozenset({"事", "物", "時", "所", "為", "訳", "方", "様", "中", "上", "下", "前", "後", "他",
                             "外", "内", "等", "毎", "位", "程", "丈", "迄", "頃", "通り"})
"""Formal nouns: their kana or kanji spelling is a 公用文 rule's business, not a matter of majority."""
