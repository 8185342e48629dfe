"""The simulator's phrase banks, one per language, with slots the writers fill.

Slots: ``{s}`` the subject (a product, a section's title, the topic), ``{a}``/``{b}`` words
taken from the prompt, ``{audience}``, ``{benefit}``, ``{feature}``, ``{offer}``, ``{goal}``,
``{cta}``; a capitalised slot (``{S}``, ``{A}``, ``{Benefit}``) starts a sentence.
"""

from __future__ import annotations

# fmt: off
EN: dict[str, list[str]] = {
    "heading": ["{A}: a practical overview", "Notes on {a}", "Getting {a} right"],
    "grounded_lead": [
        "Here is what the sources say about {a}.", "The sources given cover {a} in some detail.",
        "What follows sticks to the facts in the sources.",
    ],
    "sentence": [
        "The key to {a} is a clear sense of who will read it and why.",
        "Start with {a}, then connect it to {b} so the reader sees the whole picture.",
        "A short example usually explains {a} better than a long definition.",
        "Keep the tone direct and concrete, and avoid jargon around {b}.",
        "Each paragraph should move the reader one step closer to a decision about {a}.",
        "If {b} matters to your audience, say so early and back it with a fact.",
        "Readers remember specifics, so name the numbers, dates and people behind {a}.",
        "It helps to test the draft on someone who knows little about {b}.",
        "Cut any sentence about {a} that does not earn its place.",
    ],
    "bullet": [
        "- **{A}**: define it in one sentence before going further.",
        "- **Audience**: decide what they already know about {b}.",
        "- **Evidence**: support each claim about {a} with a source or an example.",
        "- **Structure**: lead with the point, then give the detail.",
        "- **Next step**: end with one clear action related to {b}.",
    ],
    "thought": [
        "Let me think about how {a} relates to {b}.",
        "Maybe I should mention {b} as a concrete example.",
        "I need to keep it practical rather than abstract.",
        "The reader should know what to do after reading.",
        "Short sentences will keep it easy to scan.",
    ],
    "item": [
        "{S}: {benefit}", "{Benefit}, every day", "Meet {S}", "{S} for {audience}",
        "Try {S} today", "{Benefit} starts here", "Say yes to {benefit}", "Why wait? {Benefit}",
        "{S}. {Benefit}.", "{Benefit} made simple", "Made for {audience}", "{S}, done right",
        "Your {benefit}, sorted", "Less hassle, more {benefit}", "New: {S}", "Built to last",
        "Ready when you are", "Small price, big results", "See what {S} can do",
        "The smart way to {benefit}", "Get {benefit} now", "Love {benefit}? Meet {S}",
    ],
    "short_item": [
        "Try it today", "Built to last", "See why", "Worth it", "Made for you", "Start now",
        "Simply better", "Ready today", "Feel the change", "Just works", "Go further",
        "Less hassle", "Do more", "New and better", "Yours today", "Why wait?",
    ],
    "product_heading": [
        "{S}: {benefit}", "Meet {S}", "{S}, made for {audience}", "Why {audience} choose {S}",
    ],
    "product": [
        "{S} is built for {audience} who want {benefit}.",
        "Every detail of {S} is there to make the day a little easier.",
        "It fits into your routine from the first day, without a manual.",
        "You get exactly what you need and nothing you will never use.",
        "Set it up in minutes, then forget it is there until you need it.",
        "Made for {audience}, it keeps things simple and dependable.",
        "It is the kind of product you stop noticing because it simply works.",
        "Whether at home or at work, {S} is ready when you are.",
    ],
    "benefit": [
        "so you spend less time on setup", "which keeps your day moving",
        "for results you can count on", "with nothing extra to learn",
        "that pays off from the first day", "so you can focus on what matters",
    ],
    "email_subject": [
        "{Offer}, for {audience}", "Your {offer} is waiting", "{Goal}: {offer} inside",
        "A little something for {audience}",
    ],
    "email_preview": [
        "A quick note about {offer}, and how to claim it.",
        "{Offer}, for a short time only.",
        "Everything you need to know in one minute.",
    ],
    "greeting": ["Hi there,", "Hello,", "Dear customer,"],
    "email": [
        "We have something new for {audience}: {offer}.",
        "It is our way of saying thank you for being with us.",
        "The offer is simple, and it only takes a minute to use.",
        "We built it around one goal: {goal}.",
        "If you have been waiting for the right moment, this is it.",
        "It runs for a limited time, so do not leave it too late.",
        "Questions? Just reply to this email and a real person will answer.",
    ],
    "signoff": ["Best regards,  \nThe team", "Thanks for reading,  \nThe team"],
    "doc": [
        "This section explains {a} for {s}.",
        "Before you start, make sure you can reach {s} and have the rights to change it.",
        "The example below shows the smallest setup that works.",
        "Each step can be repeated safely: nothing changes until you confirm it.",
        "If {a} does not behave as described, check {b} first: it is the most common cause.",
        "Once this works, the settings can be tuned one at a time.",
        "The defaults suit most teams; change them only when you have a reason to.",
    ],
    "step": [
        "Open {s} and find the settings for {a}.",
        "Check that {b} is switched on.",
        "Apply the change and wait for the confirmation.",
        "Run the example below to see the result.",
        "Review the log for warnings before you continue.",
    ],
    "chat": [
        "The draft reads clearly, and its main point about {a} comes through early.",
        "You could tighten the second paragraph: it repeats what the opening says.",
        "A concrete example about {b} would make the argument more convincing.",
        "The tone is consistent throughout, which suits the audience.",
        "Consider ending with one clear next step for the reader.",
        "The headings are useful; one more would help the longer middle part.",
    ],
    "more": [
        "For example, {a} can be checked in a minute before moving on.",
        "In practice, this means giving {b} a moment of attention first.",
        "This matters because readers notice {a} long before they notice anything else.",
        "A short checklist helps here, and it can be reused every time.",
        "The same approach works for {b}, with only small changes.",
        "It is worth writing down what was decided, so the next person does not have to guess.",
    ],
    "more_bullet": [
        "- Check {a} before you continue.", "- Write down what you changed and why.",
        "- Ask someone new to {b} to try it.", "- Keep one example close at hand.",
    ],
    "continue": [
        "There is one more point worth making about {a}.",
        "It also helps to look at {b} from the reader's side.",
        "Small improvements add up when they are repeated every week.",
        "In the end, what matters is that the reader knows what to do next.",
    ],
    "reason_high": [
        "Meets the rubric: clear structure, concrete details and the requested format.",
        "Follows the rubric closely, with specific and well-organised content.",
    ],
    "reason_mid": [
        "Meets most of the rubric, but some points stay general.",
        "Covers the rubric's main points; the detail is uneven.",
    ],
    "reason_low": [
        "Misses several rubric points and stays vague.",
        "Too short and too generic to meet the rubric.",
    ],
    "formal_opening": ["It is recommended that you {rest}"],
}

ZH: dict[str, list[str]] = {
    "heading": ["关于{a}的几点建议", "{a}：实用概览", "如何做好{a}"],
    "grounded_lead": [
        "以下内容依据所给资料整理。", "关于{a}，资料中有这些要点。", "下面只陈述资料中的事实。",
    ],
    "sentence": [
        "关于{a}，最重要的是先弄清楚读者是谁，以及他们为什么关心它。",
        "可以先介绍{a}，再把它和{b}联系起来，让读者看到全貌。",
        "一个简短的例子往往比冗长的定义更能说明{a}。",
        "语气要直接具体，谈到{b}时尽量少用术语。",
        "每一段都应该让读者离关于{a}的判断更近一步。",
        "如果{b}对读者很重要，就要尽早说明，并用事实支撑。",
        "读者记得住细节，所以要写清楚与{a}相关的数字、时间和人物。",
    ],
    "bullet": [
        "- **{a}**：先用一句话说清楚它是什么。",
        "- **读者**：想一想他们对{b}已经了解多少。",
        "- **证据**：每个关于{a}的观点都要有来源或例子。",
        "- **结构**：先讲结论，再讲细节。",
    ],
    "thought": [
        "我来想想{a}和{b}之间有什么关系。",
        "也许可以把{b}当作具体的例子。",
        "要写得实用一些，不要太抽象。",
        "读者读完之后应该知道下一步做什么。",
    ],
    "item": [
        "{s}，{benefit}", "{benefit}，就选{s}", "全新{s}", "{s}，懂你所需", "今天就试试{s}",
        "{benefit}从这里开始", "有了{s}，{benefit}", "为{audience}而生", "{s}，值得拥有",
        "省心之选：{s}", "每天都{benefit}", "{benefit}，不再等待", "好用看得见", "品质之选",
        "现在就出发", "小投入，大回报", "一试就爱上", "{s}来了",
    ],
    "short_item": [
        "立即体验", "值得拥有", "好用不贵", "一试就爱", "现在出发", "品质之选", "省心省力",
        "就是好用", "马上行动", "更进一步", "轻松上手", "不再等待",
    ],
    "product_heading": ["{s}：{benefit}", "认识{s}", "{s}，专为{audience}打造"],
    "product": [
        "{s}专为{audience}设计，让你{benefit}。",
        "{s}的每一个细节，都是为了让日常更轻松一点。",
        "从第一天起，它就能融入你的生活，无需翻看说明书。",
        "你得到的正是所需，没有任何多余的负担。",
        "几分钟就能上手，之后几乎感觉不到它的存在。",
        "无论在家还是在办公室，{s}都随时待命。",
        "它简单、可靠，是{audience}值得信赖的选择。",
    ],
    "benefit": [
        "省去繁琐的设置", "让每一天更顺畅", "效果稳定可靠", "无需额外学习", "第一天就见成效",
    ],
    "email_subject": ["{offer}，专属{audience}", "你的{offer}已准备好", "{goal}：{offer}"],
    "email_preview": ["一分钟了解{offer}，以及如何领取。", "{offer}，限时提供。"],
    "greeting": ["您好，", "亲爱的顾客，"],
    "email": [
        "我们为{audience}准备了一份心意：{offer}。",
        "这是我们对您一直以来支持的感谢。",
        "活动规则很简单，只需一分钟即可参与。",
        "我们的目标只有一个：{goal}。",
        "如果您一直在等待合适的时机，那就是现在。",
        "活动时间有限，请不要错过。",
        "有任何问题，直接回复这封邮件，我们会尽快答复。",
    ],
    "signoff": ["祝好，  \n团队敬上", "感谢阅读，  \n团队敬上"],
    "doc": [
        "本节介绍{s}中的{a}。",
        "开始之前，请确认你可以访问{s}，并拥有修改权限。",
        "下面的示例展示了能正常工作的最小配置。",
        "每一步都可以安全地重复执行，确认之前不会有任何改动。",
        "如果{a}的表现与描述不符，请先检查{b}，这是最常见的原因。",
        "这一步完成后，可以逐项调整各个设置。",
        "默认值适合大多数团队，只有在确有需要时才修改。",
    ],
    "step": [
        "打开{s}，找到{a}的设置。", "确认{b}已经开启。", "应用修改，等待确认提示。",
        "运行下面的示例，查看结果。", "继续之前，先查看日志中的警告。",
    ],
    "chat": [
        "这篇草稿条理清楚，关于{a}的要点在开头就说明白了。",
        "第二段可以再精简一些，它重复了开头关于{b}的内容。",
        "加一个关于{b}的具体例子，会让论证更有说服力。",
        "全文语气一致，适合目标读者。",
        "结尾可以给读者一个明确的下一步行动。",
    ],
    "more": [
        "例如，可以先花一分钟检查{a}，再继续下一步。",
        "在实际工作中，这意味着要先关注{b}。",
        "这一点很重要，因为读者往往最先注意到{a}。",
        "准备一份简短的清单会很有帮助，而且每次都能重复使用。",
        "同样的方法也适用于{b}，只需稍作调整。",
    ],
    "more_bullet": [
        "- 继续之前先检查{a}。", "- 记下改了什么以及原因。", "- 请不熟悉{b}的人试一试。",
    ],
    "continue": [
        "关于{a}，还有一点值得补充。", "从读者的角度看{b}，也会有新的收获。",
        "每周坚持做一点小改进，效果会逐渐累积。", "归根结底，重要的是让读者知道下一步该做什么。",
    ],
    "reason_high": ["符合评分标准：结构清晰，细节具体，格式正确。"],
    "reason_mid": ["基本符合评分标准，但部分内容较为笼统。"],
    "reason_low": ["未满足多项评分标准，内容空泛。"],
}

# Defaults for slots a request left empty.
EN_DEFAULTS = {
    "s": "the product", "a": "the topic", "b": "the details", "audience": "busy people",
    "benefit": "less hassle", "feature": "the essentials", "offer": "a special offer",
    "goal": "more happy customers", "cta": "Learn more",
}
ZH_DEFAULTS = {
    "s": "这款产品", "a": "这个主题", "b": "相关细节", "audience": "忙碌的人",
    "benefit": "省心省力",
    "feature": "核心功能", "offer": "专属优惠", "goal": "让更多顾客满意", "cta": "立即了解",
}

# A small glossary, so a "translation" keeps the names of common things. Words it does not
# know are left out; proper nouns and numbers travel unchanged.
GLOSSARY = {
    "install": "安装", "installation": "安装", "configure": "配置", "configuration": "配置",
    "setup": "设置", "settings": "设置", "care": "保养", "guide": "指南", "lamp": "台灯",
    "light": "灯光", "overview": "概览", "benefits": "优势", "features": "功能",
    "introduction": "简介", "usage": "使用", "price": "价格", "pricing": "价格",
    "summary": "总结", "example": "示例", "examples": "示例", "steps": "步骤", "step": "步骤",
    "contact": "联系", "email": "邮件", "product": "产品", "products": "产品", "team": "团队",
    "customer": "顾客", "customers": "顾客", "button": "按钮", "base": "底座", "cloth": "布",
    "page": "页面", "app": "应用", "desk": "书桌", "battery": "电池", "charging": "充电",
    "design": "设计", "quality": "质量", "offer": "优惠", "reader": "读者", "readers": "读者",
    "audience": "读者", "document": "文档", "section": "章节", "draft": "草稿", "text": "文本",
    "headline": "标题", "headlines": "标题", "warm": "温暖", "home": "家", "office": "办公室",
    "work": "工作", "time": "时间", "day": "一天", "data": "数据", "report": "报告",
    "security": "安全", "update": "更新", "updates": "更新", "account": "账户", "user": "用户",
    "users": "用户", "support": "支持", "service": "服务", "coffee": "咖啡", "bread": "面包",
}
# fmt: on
REVERSE_GLOSSARY = {
    **{zh: en for en, zh in GLOSSARY.items()},
    "暖光": "warm light",
    "可折叠": "foldable",
    "折叠": "folding",
    "无线": "wireless",
    "轻薄": "slim",
    "护眼": "eye-friendly",
    "续航": "battery life",
    "静音": "quiet",
}  # fmt: skip
