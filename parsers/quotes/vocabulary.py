"""Plain word lists that mail clients use, by language (data, no logic).

Adding a language means adding words here; the patterns in `parsers.quotes`
are built from these tuples.
"""

from __future__ import annotations

# Verbs of reply attribution lines ("On …, X wrote:").
REPLY_HEADER_VERBS: tuple[str, ...] = (
    "wrote", "writes", "has written",  # en
    "schrieb", "hat geschrieben",  # de
    "a écrit", "a ecrit", "écrit",  # fr
    "escribió", "escribio", "ha escrito",  # es
    "ha scritto", "scrisse",  # it
    "escreveu", "escribiu",  # pt, gl
    "schreef", "het volgende geschreven", "geschreven",  # nl
    "pisze", "napisał", "napisała", "napisał(a)", "napisal",  # pl
    "yazdı", "yazdi",  # tr
    "написал", "написала", "написал(а)", "пишет", "писал", "написав", "написала", "пише",  # ru, uk
    "skrev", "skrev følgende", "skrev följande",  # sv, da, no
    "kirjoitti",  # fi
    "napsal", "napísal",  # cs, sk
    "írta",  # hu
    "a scris",  # ro
    "έγραψε",  # el
    "כתב",  # he
    "كتب", "كتبت",  # ar
    "写道", "寫道",  # zh
    "のメッセージ", "は書きました", "書きました", "さんは書きました",  # ja
    "님이 작성",  # ko
)

# Words that open an attribution line in languages that put the verb later.
REPLY_HEADER_STARTS: tuple[str, ...] = (
    "On", "Am", "Le", "El", "Il", "Em", "Op", "W dniu", "Den", "Dne", "På", "في", "在", "於",
    "Quoting", "Zitat von", "Citando", "Citation de",
)

# Outlook/OWA header block field names, by role.
HEADER_FIELDS: dict[str, tuple[str, ...]] = {
    "from": (
        "From", "Von", "De", "Da", "Van", "Od", "Från", "Fra", "Kimden", "Gönderen", "От", "Від",
        "Lähettäjä", "Feladó", "Expeditor", "Odesílatel", "Αποστολέας", "من", "发件人", "寄件者",
        "差出人", "보낸 사람", "Remetente", "Remitente", "Mittente", "Afzender", "Avsändare", "Afsender",
        "Sender", "Nadawca", "Από", "De la", "От кого",
    ),
    "date": (
        "Sent", "Date", "Gesendet", "Datum", "Envoyé", "Date d'envoi", "Enviado", "Enviado el", "Fecha",
        "Inviato", "Data", "Verzonden", "Verzonden op", "Wysłano", "Wysłane", "Skickat", "Sendt",
        "Gönderildi", "Tarih", "Отправлено", "Дата", "Надіслано", "Lähetetty", "Elküldve", "Trimis",
        "Odesláno", "Στάλθηκε", "تاريخ الإرسال", "التاريخ", "发送时间", "日期", "寄件日期", "送信日時",
        "日付", "보낸 날짜", "Envoyé le", "Gönderilme", "Küldve", "Dátum", "Ημερομηνία", "Dato", "Päivämäärä",
    ),
    "to": (
        "To", "An", "À", "A", "Para", "Aan", "Do", "Till", "Til", "Kime", "Alıcı", "Кому",
        "Vastaanottaja", "Címzett", "Către", "Komu", "Προς", "إلى", "收件人", "宛先", "받는 사람",
        "Destinatario", "Destinataire", "Per", "Catre",
    ),
    "cc": ("Cc", "CC", "Kopie", "Copie", "Copia", "Kopia", "Kopi", "Копия", "Копія", "Bilgi", "نسخة", "抄送", "副本",
           "Másolatot kap", "Másolat", "Κοιν", "Kopio"),
    "subject": (
        "Subject", "Betreff", "Objet", "Asunto", "Oggetto", "Assunto", "Onderwerp", "Temat", "Ämne",
        "Emne", "Konu", "Тема", "Aihe", "Tárgy", "Subiect", "Předmět", "Θέμα", "الموضوع", "主题",
        "主旨", "件名", "제목", "Sujet",
    ),
    "reply_to": ("Reply-To", "Antwort an", "Répondre à"),
    "message_id": ("Message-ID", "Message-Id"),
}

# Words inside "----- … -----" separator lines.
SEPARATOR_WORDS: tuple[str, ...] = (
    "Original Message", "Forwarded message", "Forwarded Message", "Forwarded by",
    "Ursprüngliche Nachricht", "Weitergeleitete Nachricht", "Originalnachricht",
    "Message d'origine", "Message transféré", "Message original", "Courriel original",
    "Mensaje original", "Mensaje reenviado", "Messaggio originale", "Messaggio inoltrato",
    "Mensagem original", "Mensagem encaminhada", "Oorspronkelijk bericht", "Doorgestuurd bericht",
    "Wiadomość oryginalna", "Oryginalna wiadomość", "Przekazana wiadomość", "Wiadomość przekazana",
    "Orijinal ileti", "Orijinal mesaj", "İletilen ileti", "Iletilen ileti", "İletilmiş ileti",
    "Исходное сообщение", "Пересылаемое сообщение", "Пересланное сообщение", "Оригинальное сообщение",
    "Вихідне повідомлення", "Пересилане повідомлення", "Переслане повідомлення",
    "Ursprungligt meddelande", "Vidarebefordrat meddelande", "Oprindelig meddelelse",
    "Videresendt meddelelse", "Opprinnelig melding", "Videresendt melding", "Alkuperäinen viesti",
    "Eredeti üzenet", "Původní zpráva", "Mesaj original", "Αρχικό μήνυμα",
    "الرسالة الأصلية", "رسالة محولة", "原始邮件", "转发的邮件", "原始郵件", "転送メッセージ",
    "元のメッセージ", "Original-Nachricht", "Özgün İleti", "Özgün ileti", "Ozgun Ileti", "İletilen Mesaj",
    "Přeposlaná zpráva", "Továbbított üzenet", "Προωθημένο μήνυμα", "Välitetty viesti", "Mesaj redirecționat",
    "Mesaj redirectionat", "Оригінальне повідомлення", "Пересланное письмо", "Пересылаемое письмо",
    "Исходное письмо",
)

# Lines that introduce a forwarded message without dashes (Apple Mail, Yandex …).
FORWARD_INTROS: tuple[str, ...] = (
    "Begin forwarded message", "Anfang der weitergeleiteten Nachricht",
    "Début du message réexpédié", "Début du message transféré", "Inicio del mensaje reenviado",
    "Comienzo del mensaje reenviado", "Inizio messaggio inoltrato", "Início da mensagem reencaminhada",
    "Início da mensagem encaminhada", "Begin doorgestuurd bericht", "Początek przekazywanej wiadomości",
    "Начало переадресованного сообщения", "Начало пересылаемого сообщения",
    "Vidarebefordrat mejl", "Videresendt besked", "Videresendt e-post", "İletilen e-posta",
    "Forwarded message", "Пересылаемое сообщение", "Пересланное сообщение", "Пересланное письмо",
    "転送されたメッセージ", "转发的邮件",
)

# What phones and mail apps append to the new text.
MOBILE_SIGNATURES: tuple[str, ...] = (
    r"sent from my (?:\S+ ?){1,4}$",
    r"sent from my (?:iphone|ipad|ipod|android|mobile|phone|cell|samsung|galaxy|htc|blackberry|huawei|xiaomi|pixel|nokia|windows|smartphone|tablet)\b",
    r"sent from \S+ for (?:windows|ios|android|ipad|iphone)", r"sent from (?:yahoo|outlook|mail|windows mail|mailbox|gmail)\b",
    r"sent (?:via|with|using) (?:\S+ ?){1,3}(?:\(\S+\))?$", r"via (?:mobile|iphone|android)\s*$", r"\(?sent from (?:a|my)? ?(?:phone|mobile)",
    r"<<sent by", r"from my (?:iphone|ipad|android|mobile|samsung)", r"get outlook for (?:ios|android)",
    r"envoyé (?:de|depuis) mon", r"envoyé à partir de", r"von meinem \S+ gesendet", r"gesendet von meinem",
    r"diese nachricht wurde von meinem", r"von meinem mobilgerät", r"enviado (?:desde|de) mi", r"enviado do meu",
    r"enviado de meu", r"inviato da(?:l mio)? (?:\S+ ?){1,3}$", r"verzonden (?:vanaf|met|van) (?:mijn )?(?:\S+ ?){1,3}$", r"wysłane z (?:mojego )?",
    r"iphone'umdan gönderildi", r"отправлено (?:с|из) ", r"отправлено из мобильной", r"надіслано з ",
    r"skickat från min", r"sendt fra min", r"lähetetty (?:iphonesta|laitteesta)", r"أرسلت من", r"تم الإرسال من",
    r"从我的\s?\S+发送", r"發自我的", r"发自我的", r"我的\S*\s*iphone\s*发送", r"\S*\s?iphone\s?から送信",
    r"\S+から送信",
)

# Closing formulas that start a signature ("Best regards," + name lines).
# Thanks/Danke are deliberately absent: a thank-you is often the message.
VALEDICTIONS: tuple[str, ...] = (
    "Best regards", "Kind regards", "Warm regards", "Warmest regards", "Regards", "Best wishes",
    "Best", "Cheers", "Sincerely", "Yours sincerely", "Yours truly", "Yours faithfully",
    "With best regards", "Many regards", "Respectfully",
    "Mit freundlichen Grüßen", "Mit freundlichen Grüssen", "Freundliche Grüße", "Freundliche Grüsse",
    "Viele Grüße", "Viele Grüsse", "Beste Grüße", "Liebe Grüße", "Herzliche Grüße", "Gruß", "Grüße", "MfG",
    "Mit lieben Grüßen", "Cordialement", "Bien cordialement", "Bien à vous", "Salutations", "Meilleures salutations",
    "Saludos", "Saludos cordiales", "Un saludo", "Atentamente", "Cordiali saluti", "Distinti saluti", "Saluti",
    "Cordialmente", "Atenciosamente", "Abraços", "Cumprimentos", "Met vriendelijke groet", "Met vriendelijke groeten",
    "Vriendelijke groet", "Groeten", "Z poważaniem", "Pozdrawiam", "Pozdrowienia", "Saygılarımla", "Saygılar",
    "С уважением", "С наилучшими пожеланиями", "Всего доброго", "З повагою", "Med vänlig hälsning",
    "Vänliga hälsningar", "Hälsningar", "Med venlig hilsen", "Venlig hilsen", "Med vennlig hilsen",
    "Vennlig hilsen", "Hilsen", "مع تحياتي", "مع أطيب التحيات", "مع خالص التحيات", "تحياتي",
    "Mvh", "Kh", "Vh", "Hilsen", "LG", "VG", "BR", "Rgds", "Z powazaniem", "Pozdrawiam serdecznie",
    "此致", "此致敬礼", "祝好", "顺祝商祺", "よろしくお願いいたします", "よろしくお願いします",
)

# Subject prefixes that mark a forward.
FORWARD_SUBJECT_PREFIXES: tuple[str, ...] = (
    "Fwd", "Fw", "WG", "TR", "RV", "ENC", "Doorst", "Dts", "PD", "Pres", "VS", "VB", "Vid", "Vl", "İlt", "Ilt",
    "Пересл", "Пересылка", "Fwd/Пересылаемое", "Перес", "إعادة توجيه", "توجيه", "转发", "轉寄", "転送", "Fwd/Пересл",
    "FS", "I", "RIF", "Rif", "Inoltro", "Weitergeleitet", "ΠΡΘ", "Προώθηση", "TOVÁBB", "Továbbítás", "Přeposlat",
    "Переслати", "Пересл",
)

# Markers helpdesks put in their notifications ("## Reply above this line ##").
REPLY_ABOVE_MARKERS: tuple[str, ...] = (
    "reply above this line", "type your reply above this line", "write your reply above this line",
    "write above this line", "respond above this line", "Antwort oberhalb dieser Zeile",
    "oberhalb dieser Zeile antworten", "répondez au-dessus de cette ligne", "répondre au-dessus de cette ligne",
    "responda por encima de esta línea", "responde por encima de esta línea", "rispondi sopra questa riga",
    "responda acima desta linha", "antwoord boven deze regel", "odpowiedz powyżej tej linii",
    "ответьте выше этой строки", "пишите ответ выше этой строки", "напишите ответ выше этой линии",
    "الرجاء الرد أعلى هذا السطر", "请在此行上方回复", "この行より上に返信",
)

# Month names of forwarded-header dates, to the English abbreviations strptime reads
# (genitive forms where the language writes dates with them).
MONTH_NAMES: dict[str, str] = {
    # de, fr, es, it, pt, nl
    "januar": "Jan", "februar": "Feb", "märz": "Mar", "mai": "May", "juni": "Jun", "juli": "Jul",
    "oktober": "Oct", "dezember": "Dec", "janvier": "Jan", "février": "Feb", "mars": "Mar", "avril": "Apr",
    "juin": "Jun", "juillet": "Jul", "août": "Aug", "septembre": "Sep", "octobre": "Oct", "novembre": "Nov",
    "décembre": "Dec", "enero": "Jan", "febrero": "Feb", "marzo": "Mar", "abril": "Apr", "mayo": "May",
    "junio": "Jun", "julio": "Jul", "agosto": "Aug", "septiembre": "Sep", "octubre": "Oct", "noviembre": "Nov",
    "diciembre": "Dec", "mei": "May", "augustus": "Aug", "maart": "Mar", "januari": "Jan", "februari": "Feb",
    # ru, uk (genitive)
    "января": "Jan", "февраля": "Feb", "марта": "Mar", "апреля": "Apr", "мая": "May", "июня": "Jun",
    "июля": "Jul", "августа": "Aug", "сентября": "Sep", "октября": "Oct", "ноября": "Nov", "декабря": "Dec",
    "січня": "Jan", "лютого": "Feb", "березня": "Mar", "квітня": "Apr", "травня": "May", "червня": "Jun",
    "липня": "Jul", "серпня": "Aug", "вересня": "Sep", "жовтня": "Oct", "листопада": "Nov", "грудня": "Dec",
    # tr
    "ocak": "Jan", "şubat": "Feb", "mart": "Mar", "nisan": "Apr", "mayıs": "May", "haziran": "Jun",
    "temmuz": "Jul", "ağustos": "Aug", "eylül": "Sep", "ekim": "Oct", "kasım": "Nov", "aralık": "Dec",
    # cs (genitive)
    "ledna": "Jan", "února": "Feb", "března": "Mar", "dubna": "Apr", "května": "May", "června": "Jun",
    "července": "Jul", "srpna": "Aug", "září": "Sep", "října": "Oct", "listopadu": "Nov", "prosince": "Dec",
    # hu
    "január": "Jan", "február": "Feb", "március": "Mar", "április": "Apr", "május": "May", "június": "Jun",
    "július": "Jul", "augusztus": "Aug", "szeptember": "Sep", "október": "Oct",
    # el (genitive)
    "ιανουαρίου": "Jan", "φεβρουαρίου": "Feb", "μαρτίου": "Mar", "απριλίου": "Apr", "μαΐου": "May",
    "ιουνίου": "Jun", "ιουλίου": "Jul", "αυγούστου": "Aug", "σεπτεμβρίου": "Sep", "οκτωβρίου": "Oct",
    "νοεμβρίου": "Nov", "δεκεμβρίου": "Dec",
    # sv, da, no
    "maj": "May", "augusti": "Aug", "marts": "Mar", "desember": "Dec",
    # fi (partitive)
    "tammikuuta": "Jan", "helmikuuta": "Feb", "maaliskuuta": "Mar", "huhtikuuta": "Apr", "toukokuuta": "May",
    "kesäkuuta": "Jun", "heinäkuuta": "Jul", "elokuuta": "Aug", "syyskuuta": "Sep", "lokakuuta": "Oct",
    "marraskuuta": "Nov", "joulukuuta": "Dec",
    # ro
    "ianuarie": "Jan", "februarie": "Feb", "martie": "Mar", "aprilie": "Apr", "iunie": "Jun", "iulie": "Jul",
    "septembrie": "Sep", "octombrie": "Oct", "noiembrie": "Nov", "decembrie": "Dec",
}

# Morning and afternoon markers of twelve-hour times, to strptime's AM and PM.
DAY_HALVES: dict[str, str] = {"πμ": "AM", "μμ": "PM", "π.μ.": "AM", "μ.μ.": "PM", "öö": "AM", "ös": "PM"}
