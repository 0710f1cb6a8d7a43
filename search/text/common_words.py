"""Common words: those whose pairs of neighbours are indexed (analysis.pairs).

A phrase made only of common words (一つの, あの人, 自分の心) would otherwise be matched by reading the
long posting lists of all of its words; the lists of its pairs are short. Only pairs of two common
words are indexed: the pairs of rarer words are many (most occur once) and rarely needed, since a
phrase holding a rare word is quick to match by its words. The list is the union of the 150 words
(as Sudachi normalizes them) found in the most paragraphs of each benchmark corpus, Aozora Bunko's
fiction and Wikinews' news. The index depends on it: a change needs index.FORMAT_VERSION bumped.
"""

COMMON_WORDS = frozenset(
    ["の", "は", "に", "た", "て", "だ", "為る", "を", "日", "と", "が", "月", "も", "年", "で", "居る", "有る", "よる", "言う", "から", "か", "れる", "新聞", "ない", "無い", "ます", "其の", "こと", "1", "2", "成る", "其れ", "9", "へ", "3", "ず", "日本", "よう", "来る", "2006", "8", "御", "です", "10", "7", "物", "5", "何", "此の", "人", "見る", "4", "行く", "など", "6", "そう", "2005", "読み売り", "思う", "私", "ば", "又", "此れ", "行う", "時", "11", "中", "よ", "12", "良い", "まで", "氏", "所", "毎日", "られる", "朝日新聞", "方", "や", "utc", "さん", "分", "どう", "彼", "為", "ね", "ニュース", "ながら", "出る", "2008", "スポーツ", "自分", "発表", "つ", "歳", "仕舞う", "つく", "目", "上", "後", "2007", "もう", "持つ", "せる", "通信", "だけ", "2009", "第", "遣る", "な", "選手", "等", "出来る", "20", "前", "然し", "14", "産経新聞", "顔", "対する", "そこ", "回", "知る", "出す", "15", "東京", "間", "分かる", "コム", "そして", "事", "13", "30", "ばかり", "気", "おる", "家", "18", "死亡", "って", "逮捕", "16", "共同", "さ", "約", "達", "17", "聞く", "同", "者", "23", "ほど", "円", "あの", "19", "より", "今", "2014", "見える", "たり", "今回", "手", "経済", "女", "2010", "受ける", "時間", "こう", "時事", "たい", "他", "らしい", "21", "そんな", "取る", "此処", "24", "様", "午後", "号", "呉れる", "22", "入る", "25", "声", "けれど", "容疑者", "26", "未だ", "報道", "君", "事件", "一人", "うち", "情報", "考える", "台風", "話", "男", "新聞社", "付く", "少し", "試合", "気象庁", "おく", "立つ", "心", "二人", "メートル", "帰る", "日刊", "皆", "野球", "御座る", "伝える", "27", "唯", "誰", "予定", "中国", "良く", "内", "なり", "訳", "午前", "かける", "大会", "どこ", "こんな", "28", "発生", "人間", "直ぐ", "開催", "貴方", "頃", "事故", "僕", "知れる", "関する", "下", "死去", "29"]
)
